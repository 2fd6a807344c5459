"""The label checks a dataset applies up front and at run time, derived from its transforms.

They mirror what the transforms would do (CTCLabelEncode drops empty, over-long and
dictionary-less labels) and add the CTC feasibility check PaddleOCR lacks: a label needs
length + adjacent repeats frames, and the model has T = W/4 of them (Paddle's CTC gives an
infeasible label a loss of 0, so it would silently teach nothing)."""
from __future__ import annotations

from typing import Optional, Tuple

from ..character import CharacterSet
from ..losses.feasibility import ctc_min_length
from .transforms import CTCLabelEncode, RecResizeImg

# MobileNetV3 (rec) downsamples the width by 4: T = W / 4 CTC frames.
PIXELS_PER_FRAME = 4


class LabelRules:
    """Classify a label: `check(text) -> (reason | None, partially_oov)`.

    `charset`/`max_text_length` come from the CTCLabelEncode op (else Global); `frames` is the
    fixed T of a fixed-width RecResizeImg, or None when widths vary (checked per image instead)."""

    def __init__(self, charset: Optional[CharacterSet], max_text_length: Optional[int],
                 frames: Optional[int]):
        self.charset = charset
        self.max_text_length = max_text_length
        self.frames = frames

    @classmethod
    def from_ops(cls, ops: list, global_config: Optional[dict]) -> "LabelRules":
        encoder = next((op for op in ops if isinstance(op, CTCLabelEncode)), None)
        resize = next((op for op in ops if isinstance(op, RecResizeImg)), None)
        frames = None
        if resize is not None and not resize.dynamic_width:
            frames = resize.image_shape[2] // PIXELS_PER_FRAME
        if encoder is not None:
            return cls(encoder.charset, encoder.max_text_length, frames)
        if global_config:
            return cls(CharacterSet.from_config(global_config), global_config.get("max_text_length"), frames)
        return cls(None, None, frames)

    @property
    def active(self) -> bool:
        return self.charset is not None

    def check(self, text: str, frames: Optional[int] = None) -> Tuple[Optional[str], bool]:
        """Why `text` would be dropped (a skips.REASONS key) or None; and whether some of its
        characters are outside the dictionary (kept, those characters removed)."""
        if not self.active:
            return None, False
        if len(text) == 0:
            return "empty_label", False
        if self.max_text_length is not None and len(text) > self.max_text_length:
            return "too_long", False
        indices, dropped = self.charset.encode(text)
        if not indices:
            return "oov_only", False
        frames = frames if frames is not None else self.frames
        if frames is not None and ctc_min_length(indices) > frames:
            return "infeasible", bool(dropped)
        return None, bool(dropped)
