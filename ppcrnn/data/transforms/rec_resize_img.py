"""RecResizeImg: a decoded image -> the normalised, padded tensor the recogniser reads."""
from __future__ import annotations

import math
from typing import List, Optional

import cv2
import numpy as np

from ...errors import ConfigError
from ...registry import TRANSFORMS

# PaddleX's text-recognition predictor caps the batch width here; eval follows it.
PREDICTOR_MAX_WIDTH = 3200


def normalise(resized: np.ndarray, channels: int) -> np.ndarray:
    """uint8 [h, w(, c)] -> float32 [c, h, w] in [-1, 1], in PaddleOCR's exact float32 op order."""
    image = resized.astype("float32")
    if channels == 1:
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        image = image[np.newaxis, :] / 255
    else:
        image = image.transpose((2, 0, 1)) / 255
    image -= 0.5
    image /= 0.5
    return image


def fixed_width_resize(image: np.ndarray, shape: List[int], padding: bool = True):
    """PaddleOCR `resize_norm_img`: keep aspect up to width W (squeeze wider images), zero-pad right."""
    channels, height, width = shape
    if padding:
        # ratio first, then times H: float rounding decides ceil at exact multiples, as in PaddleOCR
        wanted = math.ceil(height * (image.shape[1] / float(image.shape[0])))
        resized_w = width if wanted > width else int(wanted)
    else:
        resized_w = width
    resized = cv2.resize(image, (resized_w, height))
    out = np.zeros((channels, height, width), dtype=np.float32)
    out[:, :, :resized_w] = normalise(resized, channels)
    return out, min(1.0, resized_w / width)


def predictor_resize(image: np.ndarray, shape: List[int], max_width: int = PREDICTOR_MAX_WIDTH):
    """The exported predictor's resize for one image (PaddleOCR predict_rec, PaddleX, and
    PaddleOCR's `eval_mode`): height H, width int(H * max(W/H, w/h)) capped at `max_width`, text
    resized to min(ceil(H*w/h), that width), zero-pad right. Long words keep their aspect ratio."""
    channels, height, width = shape
    ratio = image.shape[1] / float(image.shape[0])
    target_w = min(int(height * max(width / height, ratio)), max_width)
    wanted = math.ceil(height * ratio)
    resized_w = target_w if wanted > target_w else int(wanted)
    resized = cv2.resize(image, (resized_w, height))
    out = np.zeros((channels, height, target_w), dtype=np.float32)
    out[:, :, :resized_w] = normalise(resized, channels)
    return out, min(1.0, resized_w / target_w)


@TRANSFORMS.register
class RecResizeImg:
    """Resize + normalise `data['image']` (uint8 [h, w, c]) to float32 [C, H, W'] in [-1, 1].

    Training path (default): PaddleOCR `resize_norm_img`, W' = W, bit-identical to PaddleOCR.
    `eval_mode: True` (or PaddleOCR's `infer_mode: True` with a dictionary file) switches to the
    exported predictor's aspect-preserving resize, W' = max(W, int(H*w/h)) up to `max_width`, so
    evaluation scores what deployment will see (PaddleOCR#11912: squeezing at eval, not at
    inference, made eval 99 % vs inference 77 %). Batches of such images need `PadCollate`.
    Also sets `valid_ratio` (fraction of W' holding the image)."""

    def __init__(self, image_shape: List[int], padding: bool = True, infer_mode: bool = False,
                 eval_mode: bool = False, character_dict_path: Optional[str] = None,
                 max_width: int = PREDICTOR_MAX_WIDTH):
        if len(image_shape) != 3 or image_shape[0] not in (1, 3) or min(image_shape) < 1:
            raise ConfigError(f"RecResizeImg.image_shape: expected [C, H, W] with C 1 or 3, got {image_shape!r}")
        self.image_shape = [int(v) for v in image_shape]
        self.padding = padding
        self.dynamic_width = bool(eval_mode or (infer_mode and character_dict_path))
        self.max_width = max(max_width, self.image_shape[2])

    def __call__(self, data: dict):
        image = data["image"]
        if self.dynamic_width:
            data["image"], data["valid_ratio"] = predictor_resize(image, self.image_shape, self.max_width)
        else:
            data["image"], data["valid_ratio"] = fixed_width_resize(image, self.image_shape, self.padding)
        return data
