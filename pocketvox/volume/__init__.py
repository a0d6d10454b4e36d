"""The domain-free volume core: 3D U-Net, losses, metrics, trainer, tiled inference, adapter protocol.

Takes tensors ``(B, C, X, Y, Z)`` and adapters (:mod:`pocketvox.volume.adapter`); imports nothing
molecular, medical or climatic. Submodules import torch, so import them explicitly, e.g.
``from pocketvox.volume.unet import UNet3D``.
"""
