"""Attributions for volume segmentation networks: Grad-CAM for a class and a region, and the
model-randomisation sanity check. Domain-free: tensors ``(B, C, X, Y, Z)`` in, ``(X, Y, Z)`` maps out.

Grad-CAM for segmentation (Selvaraju et al. 2017; Vinogradova et al. 2020, "Towards interpretable
semantic segmentation via gradient-weighted class activation mapping"): the score is the sum of
the class's logits over a region ``R`` (a hotspot, or the whole box), ``S = Σ_{v∈R} y_k(v)``; for the
feature maps ``A`` (channels c) of a decoder layer, ``α_c = mean_v ∂S/∂A_c(v)`` and the map is
``ReLU(Σ_c α_c A_c)``, trilinearly upsampled to the input grid when the layer is coarser. The default
layer is the penultimate decoder block (:func:`default_layer` says why).

``method='hirescam'`` (Draelos & Carin 2020) replaces the channel-mean weights by the element-wise
product ``ReLU(Σ_c ∂S/∂A_c(v) · A_c(v))``: it is provably faithful to the score of the region (it sums
to the score's first-order term) and so localises more tightly, at the price of a noisier map.

Sanity check (Adebayo et al. 2018, "Sanity checks for saliency maps"): an attribution method that
explains the model must change when the model's weights are re-initialised;
:func:`randomize_weights` makes such a copy and :func:`spearman` compares two maps.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

METHODS = ("gradcam", "hirescam")


def default_layer(model: nn.Module) -> nn.Module:
    """The penultimate decoder block of a U-Net (half resolution), or the last when there is one.

    Why not the last block: its features are already the prediction — measured on PoseBusters test
    complexes (benchmarks/results/explain_deploy.md) its maps are non-zero only inside the explained
    region (ligand space), so they are 0 at every protein atom and rank no residue. One level up the
    receptive field covers the pocket lining and HiResCAM there ranks the interacting residues ~10×
    above chance."""
    net = getattr(model, "net", model)
    dec = getattr(net, "dec", None)
    if dec is not None and len(dec):
        return dec[-2] if len(dec) >= 2 else dec[-1]
    bottom = getattr(net, "bottom", None)
    if bottom is not None:
        return bottom
    raise ValueError("cannot find a decoder layer; pass layer= (a module or its dotted name)")


def _resolve_layer(model: nn.Module, layer) -> nn.Module:
    if layer is None:
        return default_layer(model)
    if isinstance(layer, str):
        return model.get_submodule(layer)
    return layer


def grad_cam(model: nn.Module, x: torch.Tensor, target: int, region=None, layer=None,
             method: str = "gradcam", relu: bool = True) -> np.ndarray:
    """Attribution map of class ``target`` over ``region`` for input ``x``; see :func:`grad_cam_maps`."""
    return grad_cam_maps(model, x, target, region, layer, (method,), relu)[method]


def grad_cam_maps(model: nn.Module, x: torch.Tensor, target: int, region=None, layer=None,
                  methods=("gradcam",), relu: bool = True) -> dict[str, np.ndarray]:
    """Attribution map of class ``target`` over ``region`` for input ``x``.

    x : (1, C, X, Y, Z) or (C, X, Y, Z) float tensor, on the model's device
    target : class (output channel) index
    region : (X, Y, Z) bool array/tensor of voxels whose logits are summed (default: every voxel)
    layer : module or dotted name whose output feature maps are used (default :func:`default_layer`)
    methods : any of 'gradcam' (channel-mean gradient weights) and 'hirescam' (element-wise); one
        forward and one backward pass serve them all
    Returns {method: (X, Y, Z) float32}, ≥ 0 when ``relu``; all zeros when the region's score has no
    gradient.
    The model's parameters get no gradients (they are not touched) and its mode is restored.
    """
    for method in methods:
        if method not in METHODS:
            raise ValueError(f"unknown attribution method {method!r}; expected one of {METHODS}")
    if x.dim() == 4:
        x = x[None]
    if x.dim() != 5 or x.shape[0] != 1:
        raise ValueError(f"expected one volume (1, C, X, Y, Z), got {tuple(x.shape)}")
    mod = _resolve_layer(model, layer)
    size = x.shape[2:]
    feats: list[torch.Tensor] = []

    def hook(_m, _inp, out):
        feats.append(out)

    was_training = model.training
    model.eval()
    h = mod.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            # the input requires grad so that the hooked activation is in a graph even when the
            # parameters are frozen; autograd.grad leaves the parameters' .grad untouched
            xin = x.detach().float().requires_grad_(True)
            logits = model(xin)
            if not 0 <= target < logits.shape[1]:
                raise ValueError(f"class index {target} out of range (model has {logits.shape[1]} outputs)")
            lk = logits[0, target]
            if region is not None:
                r = torch.as_tensor(np.asarray(region) if not torch.is_tensor(region) else region,
                                    device=lk.device).bool()
                if tuple(r.shape) != tuple(lk.shape):
                    raise ValueError(f"region shape {tuple(r.shape)} != volume shape {tuple(lk.shape)}")
                score = lk[r].sum()
            else:
                score = lk.sum()
            if not feats:
                raise ValueError("the attribution layer was not used in the forward pass")
            if not score.requires_grad:
                return {mt: np.zeros(tuple(size), np.float32) for mt in methods}
            (g,) = torch.autograd.grad(score, feats[-1], allow_unused=True)
    finally:
        h.remove()
        model.train(was_training)
    a = feats[-1]
    if g is None:
        return {mt: np.zeros(tuple(size), np.float32) for mt in methods}
    a, g = a.detach()[0], g.detach()[0]  # (c, x, y, z)
    return {mt: _finish(_combine(a, g, mt), size, model, relu) for mt in methods}


def _combine(a: torch.Tensor, g: torch.Tensor, method: str) -> torch.Tensor:
    if method == "gradcam":
        return (g.mean(dim=(1, 2, 3))[:, None, None, None] * a).sum(0)
    return (g * a).sum(0)


def _finish(cam: torch.Tensor, size, model, relu: bool) -> np.ndarray:
    if relu:
        cam = cam.clamp_min(0)
    if tuple(cam.shape) != tuple(size):
        # a padded U-Net's full-resolution map is cropped; a coarser layer's map is upsampled
        scale = [s_pad // max(s_c, 1) for s_pad, s_c in zip(_padded(size, model), cam.shape)]
        if any(s != 1 for s in scale):
            full = [c * s for c, s in zip(cam.shape, scale)]
            cam = F.interpolate(cam[None, None], size=full, mode="trilinear", align_corners=False)[0, 0]
        cam = cam[: size[0], : size[1], : size[2]]
    return cam.float().cpu().numpy().astype(np.float32)


def _padded(size, model) -> list[int]:
    m = int(getattr(getattr(model, "net", model), "multiple", 1) or 1)
    return [int(np.ceil(s / m) * m) for s in size]


def randomize_weights(model: nn.Module, seed: int = 0, cascade: int | None = None) -> nn.Module:
    """A copy of ``model`` with re-initialised parameters (the model-randomisation test).

    cascade : None re-initialises every layer; ``n`` re-initialises only the last ``n`` parameterised
        layers (Adebayo et al.'s cascading randomisation, from the output backwards)
    Norm layers are reset to identity statistics so the copy is a plausible untrained network.
    """
    m = copy.deepcopy(model)
    torch.manual_seed(seed)
    layers = [mod for mod in m.modules()
              if hasattr(mod, "reset_parameters") and any(True for _ in mod.parameters(recurse=False))]
    if cascade is not None:
        layers = layers[len(layers) - int(cascade):]
    for mod in layers:
        mod.reset_parameters()
        if hasattr(mod, "reset_running_stats"):
            mod.reset_running_stats()
    return m.eval()


def spearman(a, b, mask=None) -> float:
    """Spearman rank correlation of two maps (any equal shapes), over ``mask`` voxels if given.
    NaN when either map is constant there."""
    from scipy.stats import spearmanr

    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if mask is not None:
        m = np.asarray(mask, bool)
        a, b = a[m], b[m]
    a, b = a.ravel(), b.ravel()
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def sample_at(volume: np.ndarray, index_coords: np.ndarray, order: int = 1) -> np.ndarray:
    """Values of ``volume`` (X, Y, Z) at fractional voxel indices (N, 3) (trilinear for ``order=1``);
    points outside the volume get 0."""
    from scipy.ndimage import map_coordinates

    pts = np.asarray(index_coords, np.float64).reshape(-1, 3)
    if len(pts) == 0:
        return np.zeros(0, np.float32)
    return map_coordinates(np.asarray(volume, np.float32), pts.T, order=order, mode="constant", cval=0.0)


def normalize(att: np.ndarray) -> np.ndarray:
    """Scale a non-negative map to [0, 1] by its maximum (all-zero maps stay zero)."""
    att = np.asarray(att, np.float32)
    mx = float(att.max()) if att.size else 0.0
    return att / mx if mx > 0 else att
