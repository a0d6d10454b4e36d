"""Smaller, faster U-Nets for deployment: structured channel pruning and int8 post-training quantisation.

Domain-free: works on any :class:`~pocketvox.volume.unet.UNet3D` and plain ``(B, C, X, Y, Z)`` tensors.

**Pruning** removes whole channels (filters), so the pruned network is an ordinary, smaller dense
U-Net — it runs faster on any backend, unlike unstructured sparsity. Channels are ranked by the L1
norm of their filter (Li et al. 2017, "Pruning filters for efficient ConvNets", ICLR); when a batch
norm follows the convolution its scale ``|γ| / sqrt(var + ε)`` is folded into the filter first, since a
filter with a large norm but a tiny BN scale contributes nothing. Every *channel group* is pruned by
the same fraction: the middle channels of each two-convolution block, each block's output (shared by
the next block, the pooling path and the skip connection into the decoder), and each transposed
convolution's output (the first half of the decoder's concatenation). Network inputs and outputs are
never pruned. The kept widths are derivable from the weight shapes and are also stored in the
exported checkpoint's metadata (:func:`channel_widths`), so :func:`unet_from_state` rebuilds the
architecture exactly. A short fine-tune (:func:`fine_tune`) recovers most of the lost accuracy.

**Quantisation** is static post-training int8 in torch.ao eager mode: FX graph mode cannot trace the
U-Net (its input padding depends on the input shape), so :class:`QuantizableUNet` wraps the network
with Quant/DeQuant stubs (padding happens in float, before quantisation) and quantised
concatenations (``FloatFunctional``) for the skip connections; Conv–BN–ReLU triples are fused;
activations are calibrated with histogram observers on training grids. Weights are per-channel int8
for convolutions and per-tensor for transposed convolutions (torch.ao has no per-channel observer for
them). Works with ``norm='batch'`` or ``'none'``; the int8 model runs on CPU (fbgemm/x86 kernels).
Dynamic quantisation is not offered: torch.ao's dynamic mode quantises only Linear/RNN layers, and a
U-Net has none, so it would change nothing.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
import warnings
from collections.abc import Iterable

import torch
from torch import nn

from pocketvox.volume.unet import UNet3D, UNetConfig, build_unet

QUANT_ENGINES = ("fbgemm", "x86", "onednn")


# ----------------------------------------------------------------------------------- architecture
def channel_widths(model: nn.Module) -> dict[str, list[int]]:
    """``{module name: [in_channels, out_channels]}`` for every (transposed) convolution."""
    out = {}
    for name, m in _float_net(model).named_modules():
        # float, fused and quantised 3D convolutions all carry in/out channels and a 3D kernel
        ks = getattr(m, "kernel_size", None)
        if hasattr(m, "in_channels") and hasattr(m, "out_channels") and isinstance(ks, tuple) and len(ks) == 3:
            out[name] = [int(m.in_channels), int(m.out_channels)]
    return out


def _float_net(model: nn.Module) -> nn.Module:
    return model.net if isinstance(model, QuantizableUNet) else model


def _like_conv(m: nn.Module, cin: int, cout: int) -> nn.Module:
    kw = dict(kernel_size=m.kernel_size, stride=m.stride, padding=m.padding, bias=m.bias is not None)
    if isinstance(m, nn.ConvTranspose3d):
        return nn.ConvTranspose3d(cin, cout, **kw)
    return nn.Conv3d(cin, cout, dilation=m.dilation, **kw)


def _like_norm(m: nn.Module, ch: int) -> nn.Module:
    if isinstance(m, nn.BatchNorm3d):
        return nn.BatchNorm3d(ch, eps=m.eps, momentum=m.momentum)
    if isinstance(m, nn.InstanceNorm3d):
        return nn.InstanceNorm3d(ch, eps=m.eps, affine=m.affine)
    if isinstance(m, nn.GroupNorm):
        raise ValueError("pruned group-norm U-Nets are not supported (pruning would break the groups)")
    return m


def resize_unet(config: UNetConfig | dict, widths: dict[str, list[int]]) -> UNet3D:
    """A :class:`UNet3D` of ``config`` whose convolutions have the given ``[in, out]`` widths
    (the norms after them follow); parameters freshly initialised."""
    model = build_unet(config)
    for name, (cin, cout) in widths.items():
        parent_name, _, attr = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        conv = getattr(parent, attr) if not attr.isdigit() else parent[int(attr)]
        if (conv.in_channels, conv.out_channels) == (cin, cout):
            continue
        new = _like_conv(conv, cin, cout)
        if attr.isdigit():
            i = int(attr)
            parent[i] = new
            if i + 1 < len(parent) and isinstance(parent[i + 1], (nn.BatchNorm3d, nn.InstanceNorm3d, nn.GroupNorm)):
                parent[i + 1] = _like_norm(parent[i + 1], cout)
        else:
            setattr(parent, attr, new)
    return model


def widths_from_state(state: dict) -> dict[str, list[int]]:
    """Convolution widths read off a float state dict's weight shapes."""
    out = {}
    for key, w in state.items():
        if not key.endswith(".weight") or w.dim() != 5:
            continue
        name = key[: -len(".weight")]
        # ConvTranspose3d weights are (in, out, k, k, k); Conv3d weights (out, in, k, k, k)
        out[name] = [int(w.shape[0]), int(w.shape[1])] if name.startswith("up.") else [int(w.shape[1]), int(w.shape[0])]
    return out


def unet_from_state(config: UNetConfig | dict, state: dict) -> UNet3D:
    """Rebuild a (possibly pruned) float U-Net from its config and state dict, weights loaded."""
    model = resize_unet(config, widths_from_state(state))
    model.load_state_dict(state)
    return model


# ----------------------------------------------------------------------------------------- pruning
def _groups(model: UNet3D) -> list[dict]:
    """Channel groups: a producer (module name, weight axis of its outputs), an optional norm, and the
    consumers ``(module name, weight axis of its inputs, offset)`` that read those channels."""
    d = model.config.depth
    blocks = [f"down.{i}" for i in range(d)] + ["bottom"] + [f"dec.{j}" for j in range(d)]
    groups = []
    for b in blocks:
        groups.append({"producer": (f"{b}.0", 0), "norm": f"{b}.1", "consumers": [(f"{b}.3", 1, 0)]})
    up_out = {j: model.up[j].out_channels for j in range(d)}
    for i in range(d):
        j = d - 1 - i  # the decoder level that receives down.i's skip
        nxt = f"down.{i + 1}.0" if i + 1 < d else "bottom.0"
        groups.append({"producer": (f"down.{i}.3", 0), "norm": f"down.{i}.4",
                       "consumers": [(nxt, 1, 0), (f"dec.{j}.0", 1, up_out[j])]})
    groups.append({"producer": ("bottom.3", 0), "norm": "bottom.4",
                   "consumers": [("up.0", 0, 0)] if d else [("head", 1, 0)]})
    for j in range(d):
        groups.append({"producer": (f"up.{j}", 1), "norm": None, "consumers": [(f"dec.{j}.0", 1, 0)]})
        nxt = (f"up.{j + 1}", 0, 0) if j + 1 < d else ("head", 1, 0)
        groups.append({"producer": (f"dec.{j}.3", 0), "norm": f"dec.{j}.4", "consumers": [nxt]})
    return groups


def _importance(model: nn.Module, producer: tuple[str, int], norm: str | None) -> torch.Tensor:
    """(C,) L1 norm of each output filter, with a following batch norm's scale folded in."""
    name, axis = producer
    w = model.get_submodule(name).weight.detach()
    dims = [i for i in range(w.dim()) if i != axis]
    imp = w.abs().sum(dims)
    if norm is not None:
        nm = model.get_submodule(norm)
        if isinstance(nm, nn.BatchNorm3d):
            imp = imp * nm.weight.detach().abs() / torch.sqrt(nm.running_var + nm.eps)
        elif isinstance(nm, (nn.InstanceNorm3d, nn.GroupNorm)) and getattr(nm, "weight", None) is not None:
            imp = imp * nm.weight.detach().abs()
    return imp


def _select(state: dict, key: str, axis: int, idx: torch.Tensor, offset: int = 0, n_group: int | None = None):
    t = state[key]
    if offset == 0 and n_group in (None, t.shape[axis]):
        state[key] = t.index_select(axis, idx)
        return
    # a slice [offset, offset + n_group) of the axis is pruned, the rest kept (concatenated inputs)
    n = t.shape[axis]
    n_group = n - offset if n_group is None else n_group
    keep = torch.cat([torch.arange(0, offset), offset + idx, torch.arange(offset + n_group, n)])
    state[key] = t.index_select(axis, keep)


def prune_unet(model: UNet3D, fraction: float, min_channels: int = 2, multiple: int = 1) -> UNet3D:
    """A copy of ``model`` with ``fraction`` of the channels of every group removed (lowest L1 first).

    fraction : in [0, 1); each group keeps ``max(min_channels, round(C · (1 − fraction)))`` channels,
        rounded up to a multiple of ``multiple`` (int8 kernels like multiples of 4 or 8)
    Returns a new float :class:`UNet3D` (eval mode) with the selected weights, biases and norm
    statistics; the original is unchanged. Inputs and outputs of the network keep their channels.
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"prune fraction must be in [0, 1), got {fraction}")
    if model.config.norm == "group":
        raise ValueError("pruning group-norm U-Nets is not supported (pruning would break the groups)")
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    groups = _groups(model)
    # importances come from the original weights: groups do not interact (a filter's L1 norm is over
    # its own output axis), so the order of pruning does not matter
    plans = []
    for g in groups:
        imp = _importance(model, g["producer"], g["norm"])
        n = imp.numel()
        keep = max(min(min_channels, n), int(round(n * (1.0 - fraction))))
        keep = min(n, int(math.ceil(keep / multiple) * multiple))
        idx = torch.sort(torch.topk(imp, keep).indices).values
        plans.append((g, idx, n))
    for g, idx, n in plans:
        name, axis = g["producer"]
        _select(state, f"{name}.weight", axis, idx)
        if f"{name}.bias" in state:
            _select(state, f"{name}.bias", 0, idx)
        if g["norm"] is not None:
            for p in ("weight", "bias", "running_mean", "running_var"):
                if f"{g['norm']}.{p}" in state:
                    _select(state, f"{g['norm']}.{p}", 0, idx)
        for cname, caxis, offset in g["consumers"]:
            _select(state, f"{cname}.weight", caxis, idx, offset, n)
    new = unet_from_state(model.config, state)
    return new.eval()


def fine_tune(model: nn.Module, batches: Iterable[dict], steps: int, loss_fn=None, lr: float = 5e-4,
              device: str | torch.device = "cpu", progress: bool = False) -> list[float]:
    """A short fine-tune after pruning: ``steps`` AdamW steps over ``batches`` (cycled).

    batches : iterable of dicts with ``inputs`` (B, C, X, Y, Z), ``targets`` (B, K, X, Y, Z) and an
        optional ``mask`` (B, 1, X, Y, Z) — a DataLoader over an adapter's training dataset works
    loss_fn : ``fn(logits, targets, mask)``; default BCE + soft Jaccard (multi-label)
    Returns the loss of each step. The model is left in eval mode on ``device``.
    """
    from pocketvox.volume.losses import make_loss

    loss_fn = loss_fn or make_loss({"name": "bce_jaccard"})
    device = torch.device(device)
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(steps, 1))
    losses: list[float] = []
    it = None
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc="fine-tune", unit="step")
    while len(losses) < steps:
        if it is None:
            it = iter(batches)
        try:
            b = next(it)
        except StopIteration:
            if not losses and it is not None:
                raise ValueError("fine-tune data is empty") from None
            it = None
            continue
        x = b["inputs"].to(device)
        y = b["targets"].to(device).float()
        m = b.get("mask")
        m = m.to(device) if m is not None else None
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y, m)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
    if bar is not None:
        bar.close()
    model.eval()
    return losses


# ------------------------------------------------------------------------------------ quantisation
class QuantizableUNet(nn.Module):
    """A :class:`UNet3D` wrapped for eager-mode static quantisation (see the module docstring).

    ``forward(x)`` takes and returns float tensors exactly like the wrapped network.
    """

    def __init__(self, net: UNet3D):
        super().__init__()
        self.net = net
        self.config = net.config
        self.quant = torch.ao.quantization.QuantStub()
        self.dequant = torch.ao.quantization.DeQuantStub()
        self.cats = nn.ModuleList([torch.ao.nn.quantized.FloatFunctional() for _ in net.dec])

    @property
    def multiple(self) -> int:
        return self.net.multiple

    @property
    def receptive_radius(self) -> int:
        return self.net.receptive_radius

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.run(x, enter=self.quant, leave=self.dequant, cats=self.cats)

    def n_parameters(self) -> int:
        return n_parameters(self)


def default_engine() -> str:
    """The first int8 CPU engine of :data:`QUANT_ENGINES` this torch build supports."""
    have = torch.backends.quantized.supported_engines
    for e in QUANT_ENGINES:
        if e in have:
            return e
    raise RuntimeError(f"no int8 engine among {QUANT_ENGINES} in this torch build (has {have})")


@contextlib.contextmanager
def _quiet():
    """torch.ao eager quantisation warns on every call that it is deprecated in favour of torchao (it
    still ships and works in torch 2.13; see docs/explain_deploy.md): keep users' output clean."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*(quantiz|reduce_range|TypedStorage).*", category=UserWarning)
        yield


def _prepare_int8(model: UNet3D, engine: str) -> QuantizableUNet:
    """Wrap, fuse and attach observers (the model in eval mode; copied)."""
    import torch.ao.quantization as tq

    if model.config.norm not in ("batch", "none"):
        raise ValueError(f"int8 export supports norm 'batch' or 'none', not {model.config.norm!r}")
    torch.backends.quantized.engine = engine
    q = QuantizableUNet(copy.deepcopy(model).cpu().eval()).eval()
    fuse = [["0", "1", "2"], ["3", "4", "5"]] if model.config.norm == "batch" else [["0", "2"], ["3", "5"]]
    for blk in [*q.net.down, q.net.bottom, *q.net.dec]:
        tq.fuse_modules(blk, fuse, inplace=True)
    q.qconfig = tq.get_default_qconfig(engine)
    for up in q.net.up:
        up.qconfig = tq.QConfig(activation=q.qconfig.activation, weight=tq.default_weight_observer)
    tq.prepare(q, inplace=True)
    return q


def quantize_int8(model: UNet3D, calibration: Iterable[torch.Tensor], engine: str | None = None,
                  max_batches: int | None = None) -> QuantizableUNet:
    """Static int8 post-training quantisation of a float U-Net (not modified).

    calibration : iterable of input tensors (B, C, X, Y, Z) — training grids, not test data
    engine : 'fbgemm' | 'x86' | 'onednn' (default: :func:`default_engine`)
    Returns a converted :class:`QuantizableUNet` on CPU (eval mode).
    """
    import torch.ao.quantization as tq

    engine = engine or default_engine()
    with _quiet():
        q = _prepare_int8(model, engine)
        n = 0
        with torch.no_grad():
            for x in calibration:
                q(x.float().cpu())
                n += 1
                if max_batches and n >= max_batches:
                    break
        if n == 0:
            raise ValueError("int8 calibration needs at least one input batch")
        tq.convert(q, inplace=True)
    return q


def int8_skeleton(config: UNetConfig | dict, widths: dict, engine: str) -> QuantizableUNet:
    """An empty converted int8 model of the given architecture, ready for ``load_state_dict``."""
    import torch.ao.quantization as tq

    with _quiet():
        q = _prepare_int8(resize_unet(config, widths).eval(), engine)
        with torch.no_grad():  # observers need one pass before convert can compute (dummy) qparams
            c = q.net.config.in_channels
            q(torch.zeros(1, c, q.multiple, q.multiple, q.multiple))
        tq.convert(q, inplace=True)
    return q


# ------------------------------------------------------------------------------ checkpoint loading
def model_from_checkpoint(ckpt: dict) -> nn.Module:
    """The network of a loaded checkpoint (:func:`pocketvox.volume.io.load_checkpoint`), in eval mode:
    a float :class:`UNet3D` (original or pruned) or an int8 :class:`QuantizableUNet` (CPU only).

    ``meta['model']`` is the UNetConfig; ``meta['compression']`` (exported models) says how the
    model was made: ``widths`` ({conv: [in, out]}), ``quantize`` ('int8' or None) and ``engine``.
    """
    from pocketvox.errors import ModelError

    meta = ckpt.get("meta", {})
    cfg = meta.get("model")
    if not isinstance(cfg, dict):
        raise ModelError("checkpoint has no model config (meta['model'])")
    comp = meta.get("compression") or {}
    try:
        if comp.get("quantize") == "int8":
            engine = comp.get("engine") or default_engine()
            if engine not in torch.backends.quantized.supported_engines:
                engine = default_engine()
            q = int8_skeleton(cfg, comp["widths"], engine)
            with _quiet():
                q.load_state_dict(ckpt["model"])
            return q.eval()
        return unet_from_state(cfg, ckpt["model"]).eval()
    except (RuntimeError, KeyError, ValueError, TypeError) as e:
        raise ModelError(f"checkpoint weights do not fit its architecture ({type(e).__name__}: "
                         f"{str(e).splitlines()[0][:200]})") from None


def load_model(path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """``(model in eval mode, meta)`` from a checkpoint file of any kind (float, pruned, int8).
    int8 models stay on CPU whatever ``device`` says (the quantised kernels are CPU kernels)."""
    from pocketvox.volume.io import load_checkpoint

    with _quiet():
        ck = load_checkpoint(path)
        m = model_from_checkpoint(ck)
    if not is_quantized(m):
        m = m.to(device)
    return m, ck["meta"]


def is_quantized(model: nn.Module) -> bool:
    """True for a converted int8 model (no gradients, CPU kernels)."""
    import torch.ao.nn.quantized as nnq

    return any(isinstance(m, (nnq.Conv3d, nnq.ConvTranspose3d)) for m in model.modules())


def n_parameters(model: nn.Module) -> int:
    """Weights and biases, counting the packed int8 weights of a quantised model too."""
    if not isinstance(model, QuantizableUNet):
        return sum(p.numel() for p in model.parameters())
    n = 0
    for m in model.modules():
        wfn = getattr(m, "weight", None)
        if callable(wfn) and hasattr(m, "_packed_params"):
            n += m.weight().numel()
            b = m.bias()
            n += 0 if b is None else b.numel()
        elif isinstance(m, (nn.Conv3d, nn.ConvTranspose3d)):
            n += sum(p.numel() for p in m.parameters(recurse=False))
    return n


def state_bytes(model: nn.Module) -> int:
    """Size of the model's serialised state dict (bytes)."""
    import io

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return len(buf.getvalue())


@torch.no_grad()
def time_forward(model: nn.Module, x: torch.Tensor, repeats: int = 5, warmup: int = 1) -> float:
    """Median seconds per forward pass of ``x``."""
    for _ in range(warmup):
        model(x)
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        model(x)
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[len(ts) // 2]
