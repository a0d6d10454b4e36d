"""Losses for volumes: sparse multi-label, multi-class segmentation and regression.

All take logits/predictions ``(B, K, X, Y, Z)`` and an optional voxel mask ``(B, 1, X, Y, Z)`` (1 =
counts) so that padding or out-of-domain voxels do not train the network.

- :func:`bce_jaccard_loss` — sparse multi-label targets (interaction hotspots cover ~1 % of a
  pocket's voxels): binary cross-entropy with a per-class positive weight plus a soft Jaccard term
  (Rahman & Wang 2016, "Optimizing intersection-over-union in deep neural networks"), which optimises
  the metric we report and is insensitive to the positive/negative imbalance.
- :func:`dice_ce_loss` — multi-class segmentation (one label per voxel, e.g. tissues): softmax
  cross-entropy plus soft Dice averaged over classes (Milletari et al. 2016, V-Net).
- :func:`masked_mse_loss` — regression (e.g. physical fields).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch.nn import functional as F

_EPS = 1.0


def _mask_like(mask, ref):
    if mask is None:
        return torch.ones_like(ref[:, :1])
    return mask.to(ref.dtype)


def soft_jaccard(probs: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None,
                 smooth: float = _EPS) -> torch.Tensor:
    """Per-class soft Jaccard index, shape (K,): Σ p·t / (Σ p + Σ t − Σ p·t), summed over the batch
    and the voxels (a batch-level index: empty classes in one sample do not produce 0/0)."""
    m = _mask_like(mask, probs)
    dims = (0, 2, 3, 4)
    inter = (probs * target * m).sum(dims)
    union = ((probs + target) * m).sum(dims) - inter
    return (inter + smooth) / (union + smooth)


def bce_jaccard_loss(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None,
                     pos_weight: torch.Tensor | float | None = None, jaccard_weight: float = 1.0,
                     class_weight: torch.Tensor | None = None) -> torch.Tensor:
    """BCE (with positive weighting) + ``jaccard_weight`` × (1 − soft Jaccard), averaged over classes.

    logits, target : (B, K, X, Y, Z); target in {0, 1} (float)
    pos_weight : scalar or (K,) weight of positive voxels in the BCE term
    class_weight : optional (K,) weights of classes in both terms
    """
    target = target.to(logits.dtype)
    k = logits.shape[1]
    pw = None
    if pos_weight is not None:
        pw = torch.as_tensor(pos_weight, dtype=logits.dtype, device=logits.device).reshape(-1)
        pw = pw.expand(k).reshape(1, k, 1, 1, 1)
    bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=pw, reduction="none")
    m = _mask_like(mask, logits)
    per_class_bce = (bce * m).sum((0, 2, 3, 4)) / m.sum().clamp_min(1.0)
    jac = soft_jaccard(torch.sigmoid(logits.float()), target.float(), mask)
    per_class = per_class_bce.float() + jaccard_weight * (1.0 - jac)
    if class_weight is not None:
        w = torch.as_tensor(class_weight, dtype=per_class.dtype, device=per_class.device)
        return (per_class * w).sum() / w.sum()
    return per_class.mean()


def dice_ce_loss(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None,
                 dice_weight: float = 1.0, class_weight: torch.Tensor | None = None,
                 include_background: bool = False) -> torch.Tensor:
    """Cross-entropy + soft Dice for one-label-per-voxel segmentation.

    logits : (B, K, X, Y, Z); target : (B, X, Y, Z) int64 class indices or (B, K, X, Y, Z) one-hot.
    ``include_background=False`` leaves class 0 out of the Dice term (it dominates the volume).
    """
    k = logits.shape[1]
    if target.dim() == logits.dim():
        index = target.argmax(1)
    else:
        index = target.long()
    w = None if class_weight is None else torch.as_tensor(class_weight, dtype=logits.dtype, device=logits.device)
    ce = F.cross_entropy(logits, index, weight=w, reduction="none")
    m = _mask_like(mask, logits)
    ce = (ce * m[:, 0]).sum() / m.sum().clamp_min(1.0)
    probs = torch.softmax(logits.float(), 1)
    onehot = F.one_hot(index, k).permute(0, 4, 1, 2, 3).to(probs.dtype)
    dims = (0, 2, 3, 4)
    inter = (probs * onehot * m).sum(dims)
    denom = ((probs + onehot) * m).sum(dims)
    dice = (2 * inter + _EPS) / (denom + _EPS)
    if not include_background and k > 1:
        dice = dice[1:]
    return ce.float() + dice_weight * (1.0 - dice.mean())


def masked_mse_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared error over masked voxels, averaged over channels. pred, target: (B, K, ...)."""
    m = _mask_like(mask, pred)
    err = (pred.float() - target.float()) ** 2 * m
    return err.sum() / (m.sum().clamp_min(1.0) * pred.shape[1])


@dataclass(frozen=True)
class LossConfig:
    """Loss choice and weights (dimensionless).

    name : 'bce_jaccard' (multi-label), 'dice_ce' (multi-class), 'mse' (regression)
    pos_weight : BCE weight of positive voxels (bce_jaccard only), one value or one per class;
        ~5–20 suits ~1 % positives, rarer classes want more
    jaccard_weight, dice_weight : weight of the overlap term
    """

    name: str = "bce_jaccard"
    pos_weight: float | tuple = 5.0
    jaccard_weight: float = 1.0
    dice_weight: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


LOSSES = ("bce_jaccard", "dice_ce", "mse")


def make_loss(config: LossConfig | dict):
    """``fn(logits, target, mask=None) -> scalar`` for a :class:`LossConfig`."""
    if isinstance(config, dict):
        config = LossConfig(**config)
    if config.name == "bce_jaccard":
        return lambda lo, t, m=None: bce_jaccard_loss(lo, t, m, pos_weight=config.pos_weight,
                                                      jaccard_weight=config.jaccard_weight)
    if config.name == "dice_ce":
        return lambda lo, t, m=None: dice_ce_loss(lo, t, m, dice_weight=config.dice_weight)
    if config.name == "mse":
        return masked_mse_loss
    raise ValueError(f"unknown loss {config.name!r}; expected one of {LOSSES}")
