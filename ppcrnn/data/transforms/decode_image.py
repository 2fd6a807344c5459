"""DecodeImage: encoded image bytes -> uint8 array, as PaddleOCR's op of the same name."""
from __future__ import annotations

import cv2
import numpy as np

from ...errors import ConfigError
from ...registry import TRANSFORMS

MODES = ("BGR", "RGB", "GRAY")


@TRANSFORMS.register
class DecodeImage:
    """Decode `data['image']` (bytes of a JPEG/PNG/...) into an [H, W, 3] uint8 array.

    `img_mode` BGR keeps OpenCV's channel order, RGB flips it, GRAY decodes grey and repeats it on
    three channels (PaddleOCR's GRAY branch cannot run on colour input; this is what it means).
    `channel_first` returns [3, H, W]. Returns None when the bytes do not decode, which the dataset
    counts as a corrupt image. An image that is already an array (the synthetic dataset renders
    them) is taken as BGR and only converted to the mode."""

    def __init__(self, img_mode: str = "RGB", channel_first: bool = False,
                 ignore_orientation: bool = False):
        if img_mode not in MODES:
            raise ConfigError(f"DecodeImage.img_mode: expected one of {', '.join(MODES)}, got {img_mode!r}")
        self.img_mode = img_mode
        self.channel_first = channel_first
        self.flags = cv2.IMREAD_GRAYSCALE if img_mode == "GRAY" else cv2.IMREAD_COLOR
        if ignore_orientation:
            self.flags |= cv2.IMREAD_IGNORE_ORIENTATION

    def __call__(self, data: dict):
        image = data["image"]
        if isinstance(image, np.ndarray):
            image = self._from_bgr(image)
        else:
            if not isinstance(image, (bytes, bytearray)) or len(image) == 0:
                return None
            image = cv2.imdecode(np.frombuffer(image, dtype=np.uint8), self.flags)
            if image is None:
                return None
            if self.img_mode == "GRAY":
                image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
            elif self.img_mode == "RGB":
                image = np.ascontiguousarray(image[:, :, ::-1])
        if self.channel_first:
            image = image.transpose((2, 0, 1))
        data["image"] = image
        return data

    def _from_bgr(self, image: np.ndarray) -> np.ndarray:
        if image.ndim == 2:
            return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        if self.img_mode == "GRAY":
            return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        if self.img_mode == "RGB":
            return np.ascontiguousarray(image[:, :, ::-1])
        return image
