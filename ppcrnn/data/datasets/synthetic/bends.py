"""Bend a rendered text mask: a wave or shallow arc of the baseline (columns shifted vertically,
glyphs kept upright), or text laid on a circle as on round signs and badges (glyphs turned along the
circle). Each takes the mask ([h, w] or [h, w, layers], uint8), the text's line box
(x0, y0, x1, y1) in mask coordinates and the rng, and returns the bent mask and the line box that
holds the bent text."""
from __future__ import annotations

import cv2
import numpy as np

# Beyond this a word wraps round most of its circle, which word crops hardly ever show.
MAX_ARC_RADIANS = np.deg2rad(150.0)


def bend_baseline(mask: np.ndarray, box: tuple, max_curve: float, rng) -> tuple:
    """An arc (either way) or a sine wave of up to `max_curve` line heights, shifting columns."""
    x0, y0, x1, y1 = box
    amplitude = rng.uniform(0.1, 1.0) * max_curve * (y1 - y0) * rng.choice([-1, 1])
    across = (np.arange(mask.shape[1], dtype=np.float32) - x0) / max(x1 - x0, 1)
    if rng.random() < 0.6:
        shift = amplitude * (4 * (across - 0.5) ** 2 - 1)
    else:
        shift = amplitude * np.sin(2 * np.pi * (across * rng.uniform(0.5, 1.2) + rng.uniform(0, 1)))
    map_x = np.broadcast_to(np.arange(mask.shape[1], dtype=np.float32), mask.shape[:2])
    map_y = np.arange(mask.shape[0], dtype=np.float32)[:, None] - shift[None, :].astype(np.float32)
    bent = cv2.remap(mask, np.ascontiguousarray(map_x), map_y, cv2.INTER_LINEAR)
    inside = shift[int(x0):int(x1)] if x1 > x0 else shift
    return bent, (x0, y0 + float(inside.min()), x1, y1 + float(inside.max()))


def bend_onto_circle(mask: np.ndarray, box: tuple, radius_range: tuple, rng) -> tuple:
    """Lay the line on a circle whose radius (at the line's middle) is drawn log-uniformly from
    `radius_range` line heights: over its top (ends bending down) or, one time in three, along its
    bottom (ends bending up), each glyph turned to the circle's tangent. Long words on small circles
    get a larger radius so that the word spans at most MAX_ARC_RADIANS."""
    x0, y0, x1, y1 = box
    line_h, width = y1 - y0, max(x1 - x0, 1.0)
    radius = line_h * float(np.exp(rng.uniform(*np.log(radius_range))))
    radius = max(radius, width / MAX_ARC_RADIANS)
    side = 1.0 if rng.random() < 2 / 3 else -1.0  # 1: centre below the text, -1: above
    mid_x, mid_y = (x0 + x1) / 2, (y0 + y1) / 2
    centre_x, centre_y = mid_x, mid_y + side * radius

    def forward(x, y):
        angle, r = (x - mid_x) / radius, radius + side * (mid_y - y)
        return centre_x + r * np.sin(angle), centre_y - side * r * np.cos(angle)

    # the mask's margins (at least a line height) stay around the bent line box
    pad = min(x0, y0)
    edge = np.linspace(0.0, 1.0, 64)
    xs = np.concatenate([x0 + edge * (x1 - x0)] * 2 + [np.full(64, x0), np.full(64, x1)])
    ys = np.concatenate([np.full(64, y0), np.full(64, y1)] + [y0 + edge * (y1 - y0)] * 2)
    out_x, out_y = forward(xs, ys)
    left, top = out_x.min() - pad, out_y.min() - pad
    out_w, out_h = int(np.ceil(out_x.max() + pad - left)), int(np.ceil(out_y.max() + pad - top))
    grid_x, grid_y = np.meshgrid(np.arange(out_w, dtype=np.float64) + left,
                                 np.arange(out_h, dtype=np.float64) + top)
    dx, dy = grid_x - centre_x, grid_y - centre_y
    angle = np.arctan2(dx, -side * dy)
    map_x = (mid_x + angle * radius).astype(np.float32)
    map_y = (mid_y - side * (np.hypot(dx, dy) - radius)).astype(np.float32)
    bent = cv2.remap(mask, map_x, map_y, cv2.INTER_LINEAR)
    box = (out_x.min() - left, out_y.min() - top, out_x.max() - left, out_y.max() - top)
    return bent, tuple(float(v) for v in box)
