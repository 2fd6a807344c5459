"""A contact sheet of recognised crops: each cell shows the crop and, under it, the predicted text
and its confidence; with labels, correct cells are green and wrong ones red with the label shown.

`draw_grid(crops, results, labels=None)` takes BGR uint8 crops, `(text, score)` pairs and optional
ground-truth strings (None = unknown) and returns an RGB `PIL.Image`."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CROP_HEIGHT = 48
CELL_WIDTH = 320
TEXT_SIZE = 16
MARGIN = 6
COLOURS = {None: (20, 20, 20), True: (0, 130, 0), False: (200, 0, 0)}


def _font(font_path: Optional[str], size: int):
    return ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default(size=size)


def _fit(crop: np.ndarray) -> Image.Image:
    """The crop scaled to CROP_HEIGHT, squeezed if it would be wider than a cell."""
    height, width = crop.shape[:2]
    new_width = max(1, min(CELL_WIDTH - 2 * MARGIN, round(width * CROP_HEIGHT / height)))
    resized = cv2.resize(crop, (new_width, CROP_HEIGHT), interpolation=cv2.INTER_AREA)
    return Image.fromarray(cv2.cvtColor(resized, cv2.COLOR_BGR2RGB))


def draw_grid(crops: Sequence[np.ndarray], results: Sequence[Tuple[str, float]],
              labels: Optional[Sequence[Optional[str]]] = None, correct: Optional[Sequence[Optional[bool]]] = None,
              columns: int = 4, font_path: Optional[str] = None) -> Image.Image:
    """One cell per crop; `correct[i]` (True/False/None) picks the colour, `labels[i]` is shown
    for wrong cells."""
    if len(crops) != len(results):
        raise ValueError(f"{len(crops)} crops but {len(results)} results")
    font = _font(font_path, TEXT_SIZE)
    lines = 2 if labels is not None else 1
    cell_height = CROP_HEIGHT + 2 * MARGIN + lines * (TEXT_SIZE + 4)
    columns = max(1, min(columns, len(crops)))
    rows = max(1, -(-len(crops) // columns))
    sheet = Image.new("RGB", (columns * CELL_WIDTH, rows * cell_height), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (crop, (text, score)) in enumerate(zip(crops, results)):
        left, top = (i % columns) * CELL_WIDTH, (i // columns) * cell_height
        verdict = correct[i] if correct is not None else None
        sheet.paste(_fit(crop), (left + MARGIN, top + MARGIN))
        y = top + MARGIN + CROP_HEIGHT + 2
        draw.text((left + MARGIN, y), f"{text}  {score:.3f}", fill=COLOURS[verdict], font=font)
        if verdict is False and labels is not None and labels[i] is not None:
            draw.text((left + MARGIN, y + TEXT_SIZE + 4), f"label: {labels[i]}", fill=COLOURS[False], font=font)
        wrong = verdict is False
        draw.rectangle([left, top, left + CELL_WIDTH - 1, top + cell_height - 1],
                       outline=COLOURS[False] if wrong else (210, 210, 210), width=3 if wrong else 1)
    return sheet

