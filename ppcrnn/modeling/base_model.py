"""The recognition model: backbone -> neck -> head, wired as PaddleOCR's BaseModel.

Input images [N, 3, 32, W] float32 in [-1, 1]; output logits [N, W/4, C] in training and softmax
probabilities in eval mode (the head decides). Attribute names `backbone`, `neck`, `head` give the
state_dict prefixes PaddleOCR uses."""
from __future__ import annotations

import copy

import paddle.nn as nn

from ..errors import ConfigError
from ..registry import BACKBONES, HEADS, NECKS


class BaseModel(nn.Layer):
    def __init__(self, architecture: dict):
        super().__init__()
        arch = copy.deepcopy(architecture)
        in_channels = arch.get("in_channels", 3)
        self.backbone = BACKBONES.build(arch["Backbone"], "Architecture.Backbone", in_channels=in_channels)
        in_channels = self.backbone.out_channels
        self.use_neck = bool(arch.get("Neck"))
        if self.use_neck:
            self.neck = NECKS.build(arch["Neck"], "Architecture.Neck", in_channels=in_channels)
            in_channels = self.neck.out_channels
        head = arch.get("Head")
        if not head or head.get("out_channels") is None:
            raise ConfigError("Architecture.Head.out_channels: not set; it is len(characters) + 1 "
                              "(tools set it from the character dictionary)")
        self.head = HEADS.build(head, "Architecture.Head", in_channels=in_channels)
        self.return_all_feats = bool(arch.get("return_all_feats", False))

    def forward(self, x):
        x = self.backbone(x)
        if self.use_neck:
            x = self.neck(x)
        return self.head(x)


def build_model(architecture: dict) -> nn.Layer:
    """Build the model from an `Architecture` section whose `Head.out_channels` is set."""
    return BaseModel(architecture)
