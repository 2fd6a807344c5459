"""CTCLabelEncode: label text -> padded class indices, with PaddleOCR's filtering rules."""
from __future__ import annotations

from typing import Optional

import numpy as np

from ...character import CharacterSet
from ...registry import TRANSFORMS


@TRANSFORMS.register
class CTCLabelEncode:
    """Encode `data['label']` (str) for CTC; PaddleOCR semantics, Global merged in.

    Returns None (sample dropped) when the raw label is empty or longer than `max_text_length`
    (checked before dictionary filtering, as PaddleOCR does) or when no character is in the
    dictionary. Otherwise sets `label` int64 [max_text_length] (indices, 0-padded), `length` int64
    scalar (kept characters) and `label_ace` int64 [num_classes] (class counts over the padded
    label). Without a dictionary file labels are lower-cased (0-9a-z); characters outside the
    dictionary are dropped."""

    def __init__(self, max_text_length: int = 25, character_dict_path: Optional[str] = None,
                 use_space_char: bool = False):
        self.max_text_length = max_text_length
        self.charset = CharacterSet(character_dict_path, use_space_char)

    def encode(self, text: str) -> Optional[list]:
        """Indices PaddleOCR would train on, or None when the label is dropped."""
        if len(text) == 0 or len(text) > self.max_text_length:
            return None
        indices, _ = self.charset.encode(text)
        return indices or None

    def __call__(self, data: dict):
        indices = self.encode(data["label"])
        if indices is None:
            return None
        data["length"] = np.array(len(indices), dtype=np.int64)
        padded = indices + [0] * (self.max_text_length - len(indices))
        data["label"] = np.array(padded, dtype=np.int64)
        data["label_ace"] = np.bincount(padded, minlength=self.charset.num_classes).astype(np.int64)
        return data
