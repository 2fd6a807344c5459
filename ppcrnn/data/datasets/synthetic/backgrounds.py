"""Backgrounds for synthetic word crops: flat colour, linear gradient, smooth noise, texture, and
"scene": overlapping shapes of other colours, blurred, like the clutter behind photographed text."""
from __future__ import annotations

import cv2
import numpy as np

KINDS = ("flat", "gradient", "noise", "texture", "scene")


def _smooth_noise(height: int, width: int, cells: int, rng) -> np.ndarray:
    """Low-frequency noise in [-1, 1]: a small random grid upsampled bicubically."""
    grid = rng.uniform(-1, 1, size=(max(2, cells * height // max(width, 1) + 2), cells + 2)).astype(np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)


def make_background(kind: str, height: int, width: int, colour: np.ndarray, rng) -> np.ndarray:
    """float32 [height, width, 3] BGR around `colour` (3 values in 0..255)."""
    base = np.broadcast_to(colour.astype(np.float32), (height, width, 3))
    if kind == "flat":
        return base.copy()
    if kind == "gradient":
        other = np.clip(colour + rng.uniform(-90, 90, 3), 0, 255).astype(np.float32)
        angle = rng.uniform(0, np.pi)
        ramp = (np.arange(width, dtype=np.float32)[None, :] * np.float32(np.cos(angle))
                + np.arange(height, dtype=np.float32)[:, None] * np.float32(np.sin(angle)))
        ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1.0)
        return base + ramp[..., None] * (other - colour.astype(np.float32))
    if kind == "noise":
        amount = rng.uniform(10, 60)
        field = _smooth_noise(height, width, int(rng.integers(2, 12)), rng)
        return base + field[..., None] * amount
    if kind == "scene":
        return _scene(base.copy(), colour, rng)
    # texture: several octaves of noise plus faint lines, like paper, fabric or a wall
    field = sum(_smooth_noise(height, width, cells, rng) / (i + 1)
                for i, cells in enumerate((3, 9, 27)))
    image = base + field[..., None] * rng.uniform(15, 45) * rng.uniform(0.6, 1.0, 3).astype(np.float32)
    for _ in range(int(rng.integers(0, 4))):
        start = (int(rng.integers(width)), int(rng.integers(height)))
        end = (int(rng.integers(width)), int(rng.integers(height)))
        shade = tuple(float(v) for v in np.clip(colour + rng.uniform(-50, 50, 3), 0, 255))
        cv2.line(image, start, end, shade, int(rng.integers(1, 3)), cv2.LINE_AA)
    return image


def _scene(image: np.ndarray, colour: np.ndarray, rng) -> np.ndarray:
    """Rectangles, ellipses and bars in colours near and far from `colour`, then a blur."""
    height, width = image.shape[:2]
    for _ in range(int(rng.integers(2, 7))):
        spread = 40 if rng.random() < 0.7 else 160
        shade = tuple(float(v) for v in np.clip(colour + rng.uniform(-spread, spread, 3), 0, 255))
        x, y = int(rng.integers(-width // 4, width)), int(rng.integers(-height // 4, height))
        w, h = int(rng.integers(2, width + 1)), int(rng.integers(2, height + 1))
        shape = int(rng.integers(3))
        if shape == 0:
            cv2.rectangle(image, (x, y), (x + w, y + h), shade, -1)
        elif shape == 1:
            cv2.ellipse(image, (x, y), (w // 2 + 1, h // 2 + 1), float(rng.uniform(0, 180)), 0, 360, shade, -1)
        else:  # a bar across the whole crop: a sign's border, a shelf, a window frame
            thick = int(rng.integers(1, max(2, height // 6)))
            cv2.line(image, (0, y), (width, y + int(rng.integers(-3, 4))), shade, thick, cv2.LINE_AA)
    return cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.5, 3.0)))
