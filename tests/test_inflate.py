"""Kernel inflation 2D → 3D: a depth-constant volume reproduces the 2D network's activations."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from pocketvox.adapters.inflate import inflate_2d_to_3d  # noqa: E402


def _net2d():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(2, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 4, 5, padding=2), nn.GELU(),
        nn.ConvTranspose2d(4, 3, 2, stride=2),
    )
    # Non-trivial BN statistics so a wrong conversion of the norm would show.
    with torch.no_grad():
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
    return net.eval()


def test_depth_constant_volume_gives_2d_activations():
    net2d = _net2d()
    net3d = inflate_2d_to_3d(net2d).eval()
    assert isinstance(net3d[0], nn.Conv3d) and net3d[0].kernel_size == (3, 3, 3)
    assert isinstance(net3d[4], nn.Conv3d) and net3d[4].kernel_size == (5, 5, 5)
    assert isinstance(net3d[1], nn.BatchNorm3d)
    x2 = torch.randn(2, 2, 16, 12)
    depth = 11
    x3 = x2.unsqueeze(-1).expand(-1, -1, -1, -1, depth).contiguous()
    with torch.no_grad():
        y2 = net2d(x2)
        y3 = net3d(x3)
    assert y3.shape == (*y2.shape, depth)
    # Receptive radius along depth: 1 (3×3×3) + 2 (5×5×5); the even 2×2 transposed kernel acts per slice.
    r = 1 + 2
    for d in range(r, depth - r):
        torch.testing.assert_close(y3[..., d], y2, atol=1e-5, rtol=1e-5)
    # The end slices do see the zero padding: the test can fail if padding were ignored.
    assert not torch.allclose(y3[..., 0], y2, atol=1e-5)


def test_original_untouched_and_inplace_option():
    net2d = _net2d()
    w = net2d[0].weight.clone()
    net3d = inflate_2d_to_3d(net2d)
    assert isinstance(net2d[0], nn.Conv2d) and torch.equal(net2d[0].weight, w)
    torch.testing.assert_close(net3d[0].weight.sum(-1), w)
    single = inflate_2d_to_3d(nn.Conv2d(1, 1, 3), depth=1)
    assert isinstance(single, nn.Conv3d) and single.kernel_size == (3, 3, 1)
