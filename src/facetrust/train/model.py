"""ForensicNet: one light backbone, three heads (fake logit, forgery mask, forgery family).

Input: the aligned RGB crop from :func:`facetrust.faces.align_face`, as float32 NCHW in 0..255;
normalisation is part of the network (so the exported ONNX takes raw pixels and cannot be fed
differently normalised data by mistake). Outputs: fake logit (N,), family logits (N, F), mask
logits (N, S/8, S/8) and a pooled embedding (N, D).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..synth.registry import training_families
from .backbones import backbone_normalisation, create_backbone


def __getattr__(name: str):
    # FAMILIES is read from the synth registry when asked, so a family registered after this module
    # was imported is trainable at once: ("real", *forgery families in family-head order).
    if name == "FAMILIES":
        return training_families()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ForensicNet(nn.Module):
    def __init__(
        self,
        backbone: str = "efficientnet_lite0",
        image_size: int = 128,
        families: tuple[str, ...] | None = None,  # None: every registered synth family
        pretrained: bool = True,
        width: int = 64,
        dropout: float = 0.2,
    ):
        super().__init__()
        families = training_families() if families is None else families
        self.backbone_name, self.image_size, self.families = backbone, image_size, tuple(families)
        self.backbone = create_backbone(backbone, image_size, pretrained)
        mean, std = backbone_normalisation(backbone)  # the backbone's ImageNet preprocessing
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        c8, c16, c32 = self.backbone.channels
        self.lat8, self.lat16, self.lat32 = nn.Conv2d(c8, width, 1), nn.Conv2d(c16, width, 1), nn.Conv2d(c32, width, 1)
        self.mask_head = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, 1, 1),
        )
        self.embed_dim = c32 + width
        self.dropout = nn.Dropout(dropout)
        self.cls_head = nn.Linear(self.embed_dim, 1)
        self.family_head = nn.Linear(self.embed_dim, len(self.families))

    def forward(self, x: torch.Tensor):
        x = (x - self.mean) / self.std
        f8, f16, f32 = self.backbone(x)
        p32 = self.lat32(f32)
        p16 = self.lat16(f16) + F.interpolate(p32, size=f16.shape[-2:], mode="nearest")
        p8 = self.lat8(f8) + F.interpolate(p16, size=f8.shape[-2:], mode="nearest")
        mask = self.mask_head(p8)[:, 0]
        # the embedding sees both the global semantics and the localisation features
        emb = torch.cat([f32.mean((2, 3)), F.relu(p8).mean((2, 3))], dim=1)
        h = self.dropout(emb)
        return self.cls_head(h)[:, 0], self.family_head(h), mask, emb

    def freeze_early(self) -> None:
        """Freeze the stem and the stride-4 blocks (weights and batch-norm statistics)."""
        for m in self.backbone.stem_and_early():
            for p in m.parameters():
                p.requires_grad_(False)
        self._frozen = self.backbone.stem_and_early()

    def train(self, mode: bool = True):
        super().train(mode)
        for m in getattr(self, "_frozen", []):
            m.eval()  # frozen batch norms keep their ImageNet statistics
        return self
