"""Inflate a 2D convolutional network into a 3D one (I3D-style kernel inflation).

Carreira & Zisserman (CVPR 2017, "Quo Vadis, Action Recognition?") bootstrap 3D filters from 2D ones
by repeating each k×k kernel k times along the new depth axis and dividing by k. On a volume that is
constant along depth, each inflated filter then returns exactly the 2D filter's response, so a
pretrained 2D network (e.g. on slices) starts as a sensible 3D network.

Layout: 2D tensors are ``(B, C, H, W)``; the inflated network takes ``(B, C, H, W, D)`` with depth
*last*, so that ``x3d[..., d]`` is a slice the 2D network would see.

Mapping: Conv2d → Conv3d (kernel repeated along depth / kd), BatchNorm2d → BatchNorm3d (same
statistics), InstanceNorm2d → InstanceNorm3d, Max/AvgPool2d → pool with a depth extent of 1,
ConvTranspose2d → ConvTranspose3d. Anything else (activations, GroupNorm, Dropout) is
shape-agnostic and kept.
"""

from __future__ import annotations

import copy


def _inflate_conv(conv, depth: int | None, transpose: bool = False):
    import torch
    from torch import nn

    kd = depth if depth is not None else conv.kernel_size[0]
    if transpose and kd % 2 == 0:
        # A stride-1 transposed conv keeps the depth only for odd extents (out = D - 1 - 2p + kd);
        # even kernels (the usual 2×2 upsampling) act slice by slice instead.
        kd = 1
    # Zero-padding along depth by kd//2 keeps the depth size; the edge slices see zeros there, as any
    # 3D conv would, so only slices at least the receptive radius from the ends equal the 2D output.
    pad_d = kd // 2
    cls = nn.ConvTranspose3d if transpose else nn.Conv3d
    kwargs = dict(
        in_channels=conv.in_channels, out_channels=conv.out_channels,
        kernel_size=(*conv.kernel_size, kd), stride=(*conv.stride, 1),
        padding=(*conv.padding, pad_d) if not isinstance(conv.padding, str) else conv.padding,
        dilation=(*conv.dilation, 1), groups=conv.groups, bias=conv.bias is not None,
    )
    if transpose:
        kwargs["output_padding"] = (*conv.output_padding, 0)
    else:
        kwargs["padding_mode"] = conv.padding_mode
    new = cls(**kwargs)
    with torch.no_grad():
        new.weight.copy_(conv.weight.unsqueeze(-1).repeat(*([1] * conv.weight.dim()), kd) / kd)
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new.to(conv.weight.device, conv.weight.dtype)


def _inflate_pool(pool):
    from torch import nn

    def two(v):
        return tuple(v) if isinstance(v, tuple | list) else (v, v)

    stride = pool.stride if pool.stride is not None else pool.kernel_size
    if isinstance(pool, nn.MaxPool2d):
        return nn.MaxPool3d((*two(pool.kernel_size), 1), (*two(stride), 1), (*two(pool.padding), 0),
                            dilation=(*two(pool.dilation), 1), ceil_mode=pool.ceil_mode)
    return nn.AvgPool3d((*two(pool.kernel_size), 1), (*two(stride), 1), (*two(pool.padding), 0),
                        ceil_mode=pool.ceil_mode, count_include_pad=pool.count_include_pad)


def inflate_2d_to_3d(module, depth: int | None = None, copy_module: bool = True):
    """Return a 3D version of a 2D torch network (see the module docstring).

    ``depth``: kernel extent along the new axis (default: each conv's own first kernel size k, giving
    k×k×k). ``copy_module=False`` converts in place. Weights are divided by the depth extent so a
    depth-constant input reproduces the 2D activations away from the depth ends.
    """
    from torch import nn

    root = copy.deepcopy(module) if copy_module else module

    def convert(m):
        if isinstance(m, nn.Conv2d):
            return _inflate_conv(m, depth)
        if isinstance(m, nn.ConvTranspose2d):
            return _inflate_conv(m, depth, transpose=True)
        if isinstance(m, nn.BatchNorm2d):
            new = nn.BatchNorm3d(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats)
            new.load_state_dict(m.state_dict())
            return new.to(next(iter(m.state_dict().values())).device) if m.state_dict() else new
        if isinstance(m, nn.InstanceNorm2d):
            new = nn.InstanceNorm3d(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats)
            new.load_state_dict(m.state_dict())
            return new
        if isinstance(m, nn.MaxPool2d | nn.AvgPool2d):
            return _inflate_pool(m)
        return None

    top = convert(root)
    if top is not None:
        return top
    for child in list(root.modules()):
        for cname, sub in list(child.named_children()):
            new = convert(sub)
            if new is not None:
                setattr(child, cname, new)
    return root
