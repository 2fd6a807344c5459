"""Text Image Augmentation (TIA, Luo et al. 2020) warps: distort, stretch, perspective.

Each warp moves control points on the image border at random and resamples the image with a
moving-least-squares (affine) deformation: for every output pixel, an affine map fitted to the
control points with weights 1/distance^2 gives the source position; `cv2.remap` does the rest.
Randomness comes from numpy's global generator (seeded per DataLoader worker by Paddle)."""
from __future__ import annotations

import math

import cv2
import numpy as np

# The deformation is solved on a grid of at most this many points and interpolated in between.
MAX_GRID_POINTS = 512


def _mls_source_points(points: np.ndarray, dst: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Affine MLS: source position [G, 2] of each output point [G, 2] given control points that
    move from `src` [N, 2] to `dst` [N, 2]. Solves the 2x2 weighted normal equations per point."""
    weights = 1.0 / np.maximum(((points[:, None, :] - dst[None]) ** 2).sum(-1), 1e-6)  # [G, N]
    total = weights.sum(1, keepdims=True)
    dst_star, src_star = weights @ dst / total, weights @ src / total
    dx, dy = dst[None, :, 0] - dst_star[:, :1], dst[None, :, 1] - dst_star[:, 1:]
    sx, sy = src[None, :, 0] - src_star[:, :1], src[None, :, 1] - src_star[:, 1:]
    wx, wy = weights * dx, weights * dy
    a, b, d = (wx * dx).sum(1) + 1e-6, (wx * dy).sum(1), (wy * dy).sum(1) + 1e-6
    det = a * d - b * b
    ox, oy = points[:, 0] - dst_star[:, 0], points[:, 1] - dst_star[:, 1]
    # (offset as a row vector) @ inverse(normal matrix) @ (weighted cross terms)
    u, v = (ox * d - oy * b) / det, (oy * a - ox * b) / det
    out_x = u * (wx * sx).sum(1) + v * (wy * sx).sum(1) + src_star[:, 0]
    out_y = u * (wx * sy).sum(1) + v * (wy * sy).sum(1) + src_star[:, 1]
    return np.stack([out_x, out_y], -1)


def warp_mls(image: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Warp `image` so that points `src` [N, 2] (x, y) land on `dst`; output has the same size."""
    height, width = image.shape[:2]
    step = max(1.0, math.sqrt(height * width / MAX_GRID_POINTS))
    grid_h, grid_w = max(2, round(height / step)), max(2, round(width / step))
    # Grid points sit where cv2.resize's bilinear upsampling puts its samples.
    ys = (np.arange(grid_h) + 0.5) * height / grid_h - 0.5
    xs = (np.arange(grid_w) + 0.5) * width / grid_w - 0.5
    grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    source = _mls_source_points(grid, np.asarray(dst, np.float64), np.asarray(src, np.float64))
    # Interpolate the (smooth) displacement rather than the positions: exact for shifts and identity.
    shift = (source - grid).reshape(grid_h, grid_w, 2).astype(np.float32)
    if (grid_h, grid_w) != (height, width):
        shift = cv2.resize(shift, (width, height), interpolation=cv2.INTER_LINEAR)
    map_x = shift[..., 0] + np.arange(width, dtype=np.float32)[None, :]
    map_y = shift[..., 1] + np.arange(height, dtype=np.float32)[:, None]
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _jitter(limit: int) -> int:
    return int(np.random.randint(max(1, limit)))


def tia_distort(image: np.ndarray, segments: int = 4) -> np.ndarray:
    """Move the corners inwards and the top/bottom edge points of `segments` columns at random."""
    height, width = image.shape[:2]
    cut = width // segments
    limit = max(1, cut // 3)
    half = limit * 0.5
    src = [[0, 0], [width, 0], [width, height], [0, height]]
    dst = [[_jitter(limit), _jitter(limit)], [width - _jitter(limit), _jitter(limit)],
           [width - _jitter(limit), height - _jitter(limit)], [_jitter(limit), height - _jitter(limit)]]
    for index in range(1, segments):
        src += [[cut * index, 0], [cut * index, height]]
        dst += [[cut * index + _jitter(limit) - half, _jitter(limit) - half],
                [cut * index + _jitter(limit) - half, height + _jitter(limit) - half]]
    return warp_mls(image, np.array(src), np.array(dst))


def tia_stretch(image: np.ndarray, segments: int = 4) -> np.ndarray:
    """Shift whole column boundaries left/right at random: some letters widen, others narrow."""
    height, width = image.shape[:2]
    cut = width // segments
    limit = max(1, cut * 4 // 5)
    half = limit * 0.5
    src = [[0, 0], [width, 0], [width, height], [0, height]]
    dst = [list(p) for p in src]
    for index in range(1, segments):
        move = _jitter(limit) - half
        src += [[cut * index, 0], [cut * index, height]]
        dst += [[cut * index + move, 0], [cut * index + move, height]]
    return warp_mls(image, np.array(src), np.array(dst))


def tia_perspective(image: np.ndarray) -> np.ndarray:
    """Move the four corners vertically at random (up to half the height): a perspective tilt."""
    height, width = image.shape[:2]
    limit = max(1, height // 2)
    src = [[0, 0], [width, 0], [width, height], [0, height]]
    dst = [[0, _jitter(limit)], [width, _jitter(limit)],
           [width, height - _jitter(limit)], [0, height - _jitter(limit)]]
    return warp_mls(image, np.array(src), np.array(dst))
