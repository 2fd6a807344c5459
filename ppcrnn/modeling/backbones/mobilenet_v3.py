"""PaddleOCR's recognition MobileNetV3 (`rec_mobilenet_v3.py`), registered as `MobileNetV3`."""
from __future__ import annotations

from typing import List, Literal, Optional

import paddle.nn as nn

from ...errors import ConfigError
from ...registry import BACKBONES
from ..common import ConvBNLayer, ResidualUnit, make_divisible

SUPPORTED_SCALES = (0.35, 0.5, 0.75, 1.0, 1.25)
KEY = "Architecture.Backbone"


def _large_table(stride: List[int]) -> list:
    # kernel, expansion, output channels, SE, activation, stride. The ImageNet stride-2 positions
    # become (s, 1): only the height is downsampled, the width keeps the sequence resolution.
    return [
        [3, 16, 16, False, "relu", stride[0]],
        [3, 64, 24, False, "relu", (stride[1], 1)],
        [3, 72, 24, False, "relu", 1],
        [5, 72, 40, True, "relu", (stride[2], 1)],
        [5, 120, 40, True, "relu", 1],
        [5, 120, 40, True, "relu", 1],
        [3, 240, 80, False, "hardswish", 1],
        [3, 200, 80, False, "hardswish", 1],
        [3, 184, 80, False, "hardswish", 1],
        [3, 184, 80, False, "hardswish", 1],
        [3, 480, 112, True, "hardswish", 1],
        [3, 672, 112, True, "hardswish", 1],
        [5, 672, 160, True, "hardswish", (stride[3], 1)],
        [5, 960, 160, True, "hardswish", 1],
        [5, 960, 160, True, "hardswish", 1],
    ]


def _small_table(stride: List[int]) -> list:
    return [
        [3, 16, 16, True, "relu", (stride[0], 1)],
        [3, 72, 24, False, "relu", (stride[1], 1)],
        [3, 88, 24, False, "relu", 1],
        [5, 96, 40, True, "hardswish", (stride[2], 1)],
        [5, 240, 40, True, "hardswish", 1],
        [5, 240, 40, True, "hardswish", 1],
        [5, 120, 48, True, "hardswish", 1],
        [5, 144, 48, True, "hardswish", 1],
        [5, 288, 96, True, "hardswish", (stride[3], 1)],
        [5, 576, 96, True, "hardswish", 1],
        [5, 576, 96, True, "hardswish", 1],
    ]


# model_name -> (block table builder, channels of the last 1x1 conv before scaling)
VARIANTS = {"large": (_large_table, 960), "small": (_small_table, 576)}


def _check_stride(value: Optional[list], name: str, default: List[int]) -> List[int]:
    if value is None:
        return list(default)
    if not isinstance(value, (list, tuple)) or len(value) != 4 or not all(
            isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in value):
        raise ConfigError(f"{KEY}.{name}: expected a list of 4 positive ints, got {value!r}")
    return list(value)


@BACKBONES.register
class MobileNetV3(nn.Layer):
    """Recognition MobileNetV3: images [N, in_channels, 32, W] -> features
    [N, out_channels, 1, W/4] (out_channels = make_divisible(scale * 960 | 576)).

    conv1 (3x3, stride 2, hardswish) -> residual blocks of the `model_name` table -> conv2 (1x1,
    hardswish) -> 2x2 max pool. Blocks that downsample use stride (s, 1), so the width is halved only
    by conv1 and the pool."""

    def __init__(self, in_channels: int = 3, model_name: Literal["large", "small"] = "small",
                 scale: Literal[0.35, 0.5, 0.75, 1.0, 1.25] = 0.5,
                 large_stride: Optional[List[int]] = None, small_stride: Optional[List[int]] = None,
                 disable_se: bool = False):
        super().__init__()
        if model_name not in VARIANTS:
            raise ConfigError(f"{KEY}.model_name: expected one of {', '.join(VARIANTS)}, got {model_name!r}")
        if scale not in SUPPORTED_SCALES:
            raise ConfigError(f"{KEY}.scale: expected one of {', '.join(map(str, SUPPORTED_SCALES))}, "
                              f"got {scale!r}")
        large_stride = _check_stride(large_stride, "large_stride", [1, 2, 2, 2])
        small_stride = _check_stride(small_stride, "small_stride", [2, 2, 2, 2])
        build_table, last_channels = VARIANTS[model_name]
        table = build_table(large_stride if model_name == "large" else small_stride)
        self.disable_se = disable_se

        channels = make_divisible(16 * scale)
        self.conv1 = ConvBNLayer(in_channels, channels, 3, stride=2, padding=1, act="hardswish")
        blocks = []
        for kernel, expansion, out, use_se, act, stride in table:
            blocks.append(ResidualUnit(channels, make_divisible(scale * expansion), make_divisible(scale * out),
                                       kernel, stride, use_se and not disable_se, act))
            channels = make_divisible(scale * out)
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = make_divisible(scale * last_channels)
        self.conv2 = ConvBNLayer(channels, self.out_channels, 1, stride=1, padding=0, act="hardswish")
        self.pool = nn.MaxPool2D(kernel_size=2, stride=2, padding=0)

    def forward(self, x):
        return self.pool(self.conv2(self.blocks(self.conv1(x))))
