"""Render one word crop: text mask (Pillow; optional neighbouring words, outline, curved baseline or
text on a circle) -> one perspective warp that also crops -> background, block letters' sides and
colours -> blur / noise / JPEG. All randomness comes from the `rng` passed in; an option at
probability 0 draws no random number, so adding options leaves earlier configs' samples
unchanged."""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Optional

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ....errors import ConfigError
from .backgrounds import KINDS, make_background
from .bends import bend_baseline, bend_onto_circle


@dataclasses.dataclass
class Variation:
    """Probabilities and ranges of every variation (the `variation:` mapping of the config).
    Sizes are in pixels of the rendered text, margins in line heights (negative cuts into it).
    `outline`: a rim of another colour around the glyphs; `curve`: the baseline bent into an arc
    or a wave of up to `max_curve` line heights; `arc`: the text laid on a circle of `arc_radius`
    line heights, glyphs turned along it as on round signs (drawn before `curve`, which it then
    replaces); `neighbours`: words drawn left/right and lines above/below at a small gap, so a
    tight crop holds fragments of them as real word crops do; `extrude`: the sides of block letters,
    the glyphs swept a few pixels down and sideways in a colour of their own; `vivid_colour`: a
    saturated background colour instead of a muted tint."""
    font_size: List[int] = (18, 44)
    rotate_prob: float = 0.3
    max_rotate_deg: float = 4.0
    skew_prob: float = 0.3
    max_skew: float = 0.3
    perspective_prob: float = 0.2
    max_perspective: float = 0.1
    spacing_prob: float = 0.15
    max_spacing: float = 0.25
    stroke_prob: float = 0.1
    outline_prob: float = 0.0
    curve_prob: float = 0.0
    max_curve: float = 0.35
    arc_prob: float = 0.0
    arc_radius: List[float] = (1.5, 6.0)
    neighbours_prob: float = 0.0
    margin_y: List[float] = (-0.06, 0.35)
    margin_x: List[float] = (-0.03, 0.6)
    backgrounds: Dict[str, float] = dataclasses.field(
        default_factory=lambda: {"flat": 0.35, "gradient": 0.25, "noise": 0.2, "texture": 0.2})
    min_contrast: float = 50.0
    shadow_prob: float = 0.1
    extrude_prob: float = 0.0
    blur_prob: float = 0.3
    max_blur_sigma: float = 1.5
    downscale_prob: float = 0.2
    downscale_factor: List[float] = (0.35, 0.8)
    vivid_colour_prob: float = 0.0
    noise_prob: float = 0.3
    max_noise_std: float = 12.0
    jpeg_prob: float = 0.3
    jpeg_quality: List[int] = (20, 90)

    @classmethod
    def from_config(cls, options: Optional[dict]) -> "Variation":
        options = dict(options or {})
        defaults = cls()
        known = {f.name for f in dataclasses.fields(cls)}
        for key, value in options.items():
            where = f"SyntheticDataSet.variation.{key}"
            if key not in known:
                raise ConfigError(f"{where}: unknown option; known: {', '.join(sorted(known))}")
            default = getattr(defaults, key)
            if isinstance(default, (tuple, list)):
                ok = isinstance(value, (list, tuple)) and len(value) == 2 and value[0] <= value[1]
                ok = ok and (key != "arc_radius" or value[0] > 0)
            elif isinstance(default, dict):
                ok = isinstance(value, dict) and all(isinstance(w, (int, float)) and w >= 0 for w in value.values())
            else:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
            if not ok:
                raise ConfigError(f"{where}: expected something like {default!r}, got {value!r}")
        unknown = set(options.get("backgrounds", {})) - set(KINDS)
        if unknown:
            raise ConfigError(f"SyntheticDataSet.variation.backgrounds: unknown {sorted(unknown)}; known: {KINDS}")
        return cls(**options)


LUMA_BGR = np.array([0.114, 0.587, 0.299])


def _luma(colour: np.ndarray) -> float:
    return float(colour @ LUMA_BGR)


def _hit(probability: float, rng) -> bool:
    """True with `probability`; draws nothing at 0 (see the module docstring)."""
    return probability > 0 and rng.random() < probability


class Renderer:
    """`render(text, font, rng) -> uint8 [h, w, 3]` BGR crop of `text` drawn with `font`.
    `filler(rng) -> str` gives the neighbouring words (variation.neighbours_prob)."""

    def __init__(self, variation: Variation, filler: Optional[Callable] = None):
        self.v = variation
        self.filler = filler
        names = [k for k, w in variation.backgrounds.items() if w > 0]
        weights = np.array([variation.backgrounds[k] for k in names], dtype=np.float64)
        self.background_kinds, self.background_p = names, weights / weights.sum()

    def _mask(self, text: str, font, rng) -> tuple:
        """uint8 mask [h, w] (or [h, w, 2]: fill, outline) with the text and any neighbours, and the
        text's line box (x0, y0, x1, y1) in mask coordinates."""
        v = self.v
        size = font.size
        # bolding in proportion to the glyphs: a fixed 2 px turned small bold faces into blobs
        stroke = max(1, round(size * rng.uniform(0.02, 0.05))) if rng.random() < v.stroke_prob else 0
        spacing = rng.uniform(0.05, v.max_spacing) * size if rng.random() < v.spacing_prob else 0.0
        outline = max(1, round(size * rng.uniform(0.04, 0.1))) if _hit(v.outline_prob, rng) else 0
        ascent, descent = font.getmetrics()
        line_h = ascent + descent
        advances = [font.getlength(c) + spacing for c in text] if spacing else None
        width = int(np.ceil(sum(advances) if spacing else font.getlength(text))) + 2 * stroke
        pad_x = pad_y = size + outline
        lines = []  # (x, y, text) of neighbouring words, relative to the text's origin
        if self.filler is not None and _hit(v.neighbours_prob, rng):
            gap = rng.uniform(0.25, 0.7) * size
            for side in ("left", "right", "above", "below"):
                if rng.random() < 0.5:
                    continue
                other = self.filler(rng)
                other_w = font.getlength(other)
                if side == "left":
                    lines.append((-gap - other_w, 0, other))
                elif side == "right":
                    lines.append((width + gap, 0, other))
                else:
                    shift = rng.uniform(-0.5, 0.5) * width
                    lines.append((shift, (-1 if side == "above" else 1) * (line_h + gap * 0.5), other))
            pad_x += int(max([0] + [max(-x, x + font.getlength(t) - width) for x, _, t in lines]))
            pad_y += int(line_h + gap) if any(y for _, y, _ in lines) else 0
        shape = (width + 2 * pad_x, line_h + 2 * pad_y)
        layers = []
        for widen in ([stroke, stroke + outline] if outline else [stroke]):
            layer = Image.new("L", shape, 0)
            draw = ImageDraw.Draw(layer)
            # stroke options only when stroking: with a stroke_fill Pillow renders the text twice
            style = {"stroke_width": widen, "stroke_fill": 255} if widen else {}
            if spacing:
                x = float(pad_x)
                for char, advance in zip(text, advances):
                    draw.text((x, pad_y), char, fill=255, font=font, **style)
                    x += advance
            else:
                draw.text((pad_x, pad_y), text, fill=255, font=font, **style)
            for x, y, other in lines:
                draw.text((pad_x + x, pad_y + y), other, fill=255, font=font, **style)
            layers.append(np.asarray(layer))
        mask = layers[0] if len(layers) == 1 else np.dstack(layers)
        box = (pad_x, pad_y, pad_x + width, pad_y + line_h)
        if _hit(v.arc_prob, rng):
            mask, box = bend_onto_circle(mask, box, v.arc_radius, rng)
        elif _hit(v.curve_prob, rng):
            mask, box = bend_baseline(mask, box, v.max_curve, rng)
        return mask, box

    def _geometry(self, box: tuple, rng) -> np.ndarray:
        """Homography: rotation, shear and a corner jitter about the line box centre."""
        v = self.v
        x0, y0, x1, y1 = box
        height = y1 - y0
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        matrix = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], dtype=np.float64)
        if rng.random() < v.skew_prob:
            shear = rng.uniform(-v.max_skew, v.max_skew)
            matrix = np.array([[1, shear, 0], [0, 1, 0], [0, 0, 1]]) @ matrix
        if rng.random() < v.rotate_prob:
            angle = np.deg2rad(rng.uniform(-v.max_rotate_deg, v.max_rotate_deg))
            c, s = np.cos(angle), np.sin(angle)
            matrix = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ matrix
        matrix = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]]) @ matrix
        if rng.random() < v.perspective_prob:
            corners = np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
            moved = corners + rng.uniform(-v.max_perspective, v.max_perspective, (4, 2)).astype(np.float32) * height
            matrix = cv2.getPerspectiveTransform(corners, moved).astype(np.float64) @ matrix
        return matrix

    def _crop(self, matrix: np.ndarray, box: tuple, rng) -> tuple:
        """Add the translation that crops around the warped line box with random margins."""
        x0, y0, x1, y1 = box
        corners = np.float64([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]]) @ matrix.T
        corners = corners[:, :2] / corners[:, 2:]
        line_h = y1 - y0
        left, top = corners.min(0)
        right, bottom = corners.max(0)
        left -= rng.uniform(*self.v.margin_x) * line_h
        right += rng.uniform(*self.v.margin_x) * line_h
        top -= rng.uniform(*self.v.margin_y) * line_h
        bottom += rng.uniform(*self.v.margin_y) * line_h
        width, height = max(4, int(round(right - left))), max(4, int(round(bottom - top)))
        shift = np.array([[1, 0, -left], [0, 1, -top], [0, 0, 1]])
        return shift @ matrix, width, height

    def _background_colour(self, rng) -> np.ndarray:
        """A muted tint: a grey level plus a random colour cast; or a vivid colour."""
        if _hit(self.v.vivid_colour_prob, rng):
            hsv = np.uint8([[[rng.integers(0, 180), rng.integers(90, 230), rng.integers(60, 240)]]])
            return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float64)
        return np.clip(rng.uniform(0, 255) + rng.uniform(-1, 1, 3) * rng.uniform(0, 90), 0, 255)

    def _text_colour(self, image: np.ndarray, alpha: np.ndarray, rng) -> np.ndarray:
        """A text colour whose luma is at least min_contrast away from the background actually under
        the text (its 10th-90th percentile luma: gradients, noise and shadows move it), on a random
        side where it fits, else as far as it can go."""
        under = image[alpha[..., 0] > 0.5]
        lumas = under @ LUMA_BGR.astype(np.float32) if len(under) else np.array([128.0])
        low, high = np.percentile(lumas, [10, 90])
        contrast = rng.uniform(self.v.min_contrast, 255)
        sides = [luma for luma in (high + contrast, low - contrast) if 0 <= luma <= 255]
        if sides:
            target = sides[int(rng.integers(len(sides)))]
        else:
            target = 255.0 if 255 - high > low else 0.0
        tint = rng.uniform(-40, 40, 3)
        return np.clip(target + tint - _luma(tint), 0, 255)

    def render(self, text: str, font, rng) -> np.ndarray:
        v = self.v
        mask, box = self._mask(text, font, rng)
        matrix, width, height = self._crop(self._geometry(box, rng), box, rng)
        warped = cv2.warpPerspective(mask, matrix, (width, height), flags=cv2.INTER_LINEAR)
        warped = warped.astype(np.float32).reshape(height, width, -1) / 255.0
        alpha, rim = warped[..., :1], warped[..., 1:]
        kind = self.background_kinds[int(rng.choice(len(self.background_kinds), p=self.background_p))]
        image = make_background(kind, height, width, self._background_colour(rng), rng)
        if rng.random() < v.shadow_prob:
            offset = rng.integers(1, max(2, height // 12) + 1, size=2)
            shadow = np.roll(rim if rim.size else alpha, tuple(int(o) for o in offset), axis=(0, 1))
            image = image * (1 - 0.5 * shadow)
        if _hit(v.extrude_prob, rng):
            image = self._extrude(image, rim if rim.size else alpha, rng)
        if rim.size:  # the outline takes a colour apart from the background, the fill one apart from it
            image = image * (1 - rim) + self._text_colour(image, rim, rng).astype(np.float32) * rim
        foreground = self._text_colour(image, alpha, rng)
        image = image * (1 - alpha) + foreground.astype(np.float32) * alpha
        image = np.clip(image, 0, 255).astype(np.uint8)
        return self._degrade(image, rng)

    def _extrude(self, image: np.ndarray, glyphs: np.ndarray, rng) -> np.ndarray:
        """Block letters: the glyph mask swept 4-12 % of the crop height at 20-70 degrees below the
        horizontal, either side, painted in a colour apart from the background (the face, drawn
        over it afterwards, then takes a colour apart from the sides too)."""
        height, width = glyphs.shape[:2]
        depth = max(2, int(round(height * rng.uniform(0.04, 0.12))))
        angle = np.deg2rad(rng.uniform(20, 70))
        step_x, step_y = np.cos(angle) * rng.choice([-1, 1]), np.sin(angle)
        side = np.zeros((height, width), np.float32)
        for k in range(1, depth + 1):
            shift = np.float32([[1, 0, k * step_x], [0, 1, k * step_y]])
            side = np.maximum(side, cv2.warpAffine(glyphs[..., 0], shift, (width, height)))
        side = side[..., None]
        return image * (1 - side) + self._text_colour(image, side, rng).astype(np.float32) * side

    def _degrade(self, image: np.ndarray, rng) -> np.ndarray:
        v = self.v
        height, width = image.shape[:2]
        if rng.random() < v.downscale_prob and height > 12:
            factor = rng.uniform(*v.downscale_factor)
            small = cv2.resize(image, (max(1, int(width * factor)), max(1, int(height * factor))),
                               interpolation=cv2.INTER_AREA)
            image = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
        if rng.random() < v.blur_prob:
            image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, v.max_blur_sigma))
        if rng.random() < v.noise_prob:
            noise = rng.normal(0, rng.uniform(1, v.max_noise_std), image.shape)
            image = np.clip(image + noise, 0, 255).astype(np.uint8)
        if rng.random() < v.jpeg_prob:
            quality = int(rng.integers(v.jpeg_quality[0], v.jpeg_quality[1] + 1))
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok:
                image = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
        return image
