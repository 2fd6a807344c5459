"""RecAug: PaddleOCR's recognition augmentation (TIA warps + crop, blur, HSV, jitter, noise, reverse)."""
from __future__ import annotations

import random

import cv2
import numpy as np

from ...registry import TRANSFORMS
from .tia import tia_distort, tia_perspective, tia_stretch

_BLUR_KERNEL = cv2.getGaussianKernel(ksize=5, sigma=1, ktype=cv2.CV_32F)


def crop_rows(image: np.ndarray) -> np.ndarray:
    """Cut 1-8 rows (never all) from the top or the bottom."""
    height = image.shape[0]
    cut = min(random.randint(1, 8), height - 1)
    return image[cut:] if random.randint(0, 1) else image[:height - cut]


def hsv_value_jitter(image: np.ndarray) -> np.ndarray:
    """Scale the HSV value channel by 1 +- up to 0.1 %."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    delta = 0.001 * random.random() * (1 if random.random() < 0.5 else -1)
    hsv[:, :, 2] = hsv[:, :, 2] * (1 + delta)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def diagonal_smear(image: np.ndarray) -> np.ndarray:
    """Overlay copies shifted 1..s pixels down-right, s up to 1 % of the shorter side."""
    height, width = image.shape[:2]
    if height <= 10 or width <= 10:
        return image
    steps = int(random.random() * min(height, width) * 0.01)
    source = image.copy()
    out = image.copy()
    for shift in range(steps):
        out[shift:, shift:] = source[:height - shift, :width - shift]
    return out


def gaussian_noise(image: np.ndarray, var: float = 0.1) -> np.ndarray:
    """Add N(0, var) noise scaled by 0.5 (as PaddleOCR), clip to uint8."""
    noise = np.random.normal(0, var ** 0.5, image.shape)
    return np.clip(image + 0.5 * noise, 0, 255).astype(np.uint8)


@TRANSFORMS.register
class RecAug:
    """Augment `data['image']` (uint8 [h, w, 3] BGR, before resizing) in place of PaddleOCR's op.

    With probability `tia_prob`: TIA distort and stretch (3-6 segments; images at least 20x20)
    then TIA perspective. Then, each independently: crop 1-8 rows (`crop_prob`, >= 20x20), 5x5
    Gaussian blur sigma 1 (`blur_prob`), HSV value jitter (`hsv_aug_prob`), diagonal smear
    (`jitter_prob`), Gaussian noise (`noise_prob`), colour inversion (`reverse_prob`).
    Defaults are PaddleOCR's (0.4 each); the image keeps its dtype, size may shrink by the crop."""

    def __init__(self, tia_prob: float = 0.4, crop_prob: float = 0.4, reverse_prob: float = 0.4,
                 noise_prob: float = 0.4, jitter_prob: float = 0.4, blur_prob: float = 0.4,
                 hsv_aug_prob: float = 0.4):
        self.tia_prob = tia_prob
        self.crop_prob = crop_prob
        self.reverse_prob = reverse_prob
        self.noise_prob = noise_prob
        self.jitter_prob = jitter_prob
        self.blur_prob = blur_prob
        self.hsv_aug_prob = hsv_aug_prob

    def __call__(self, data: dict):
        image = data["image"]
        height, width = image.shape[:2]
        if random.random() <= self.tia_prob:
            if height >= 20 and width >= 20:
                image = tia_distort(image, random.randint(3, 6))
                image = tia_stretch(image, random.randint(3, 6))
            image = tia_perspective(image)
        height, width = image.shape[:2]
        if random.random() <= self.crop_prob and height >= 20 and width >= 20:
            image = crop_rows(image)
        if random.random() <= self.blur_prob:
            image = cv2.sepFilter2D(image, -1, _BLUR_KERNEL, _BLUR_KERNEL)
        if random.random() <= self.hsv_aug_prob and image.ndim == 3:
            image = hsv_value_jitter(image)
        if random.random() <= self.jitter_prob:
            image = diagonal_smear(image)
        if random.random() <= self.noise_prob:
            image = gaussian_noise(image)
        if random.random() <= self.reverse_prob:
            image = 255 - image
        data["image"] = image
        return data
