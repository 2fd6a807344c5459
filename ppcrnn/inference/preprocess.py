"""Inference preprocessing, identical to PaddleX 3.x `TextRecognition` (PaddleOCR 3.x).

`read_image` turns a path, a BGR numpy array (HxW gray, HxWx1, HxWx3 or HxWx4) or a PIL image into
an HxWx3 uint8 array in the channel order the model was trained on. `resize_norm` keeps the aspect
ratio: height H of `image_shape` [C, H, W], width ceil(H·w/h) but at least W wide after zero
padding on the right (capped at 3200 px, where wider crops are squeezed), values (x/255 − 0.5)/0.5,
CHW float32. `stack_batch` zero-pads a list of those on the right to the widest and stacks them
into [N, C, H, maxW]."""
from __future__ import annotations

import math
import os
from typing import Any, List, Sequence

import cv2
import numpy as np

MAX_WIDTH = 3200  # PaddleX's OCRReisizeNormImg.max_imgW
IMG_MODES = ("BGR", "RGB")


def _bgr_from_array(array: np.ndarray, where: str) -> np.ndarray:
    if array.dtype != np.uint8:
        raise ValueError(f"{where}: expected a uint8 image, got dtype {array.dtype}")
    if array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 1):
        return cv2.cvtColor(array.reshape(array.shape[:2]), cv2.COLOR_GRAY2BGR)
    if array.ndim == 3 and array.shape[2] == 3:
        return array
    if array.ndim == 3 and array.shape[2] == 4:
        # Alpha is dropped, as OpenCV does when it reads an RGBA file in colour mode.
        return cv2.cvtColor(array, cv2.COLOR_BGRA2BGR)
    raise ValueError(f"{where}: expected an HxW, HxWx1, HxWx3 or HxWx4 image, got shape {array.shape}")


def read_image(image: Any, img_mode: str = "BGR", where: str = "image") -> np.ndarray:
    """HxWx3 uint8 in `img_mode` order from a file path, a BGR numpy array or a PIL image."""
    if img_mode not in IMG_MODES:
        raise ValueError(f"img_mode must be one of {IMG_MODES}, got {img_mode!r}")
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: image file not found")
        # np.fromfile + imdecode also reads paths with non-ASCII characters.
        bgr = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"{path}: not a readable image")
        where = path
    elif isinstance(image, np.ndarray):
        bgr = _bgr_from_array(image, where)
    elif hasattr(image, "convert") and hasattr(image, "mode"):  # PIL.Image.Image
        rgb = np.asarray(image.convert("RGB"))
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    else:
        raise TypeError(f"{where}: expected a path, a numpy array or a PIL image, got {type(image).__name__}")
    if bgr.shape[0] == 0 or bgr.shape[1] == 0:
        raise ValueError(f"{where}: empty image (shape {bgr.shape})")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if img_mode == "RGB" else np.ascontiguousarray(bgr)


def target_width(height: int, width: int, image_shape: Sequence[int]) -> int:
    """Width of the padded model input for a crop of `height` x `width` pixels."""
    _, img_h, img_w = image_shape
    max_wh_ratio = max(img_w / img_h, width * 1.0 / height)
    return min(int(img_h * max_wh_ratio), MAX_WIDTH)


def resize_norm(image: np.ndarray, image_shape: Sequence[int]) -> np.ndarray:
    """[C, H, target_width] float32 in [-1, 1] from an HxWx3 uint8 crop (PaddleX arithmetic)."""
    channels, img_h, _ = image_shape
    if image.ndim != 3 or image.shape[2] != channels:
        raise ValueError(f"expected an HxWx{channels} image, got shape {image.shape}")
    height, width = image.shape[:2]
    padded_w = target_width(height, width, image_shape)
    if padded_w == MAX_WIDTH:
        resized_w = MAX_WIDTH
    else:
        resized_w = min(int(math.ceil(img_h * (width / float(height)))), padded_w)
    resized = cv2.resize(image, (resized_w, img_h)).astype("float32")
    resized = resized.transpose((2, 0, 1)) / 255
    resized -= 0.5
    resized /= 0.5
    out = np.zeros((channels, img_h, padded_w), dtype=np.float32)
    out[:, :, :resized_w] = resized
    return out


def stack_batch(images: List[np.ndarray]) -> np.ndarray:
    """[N, C, H, maxW] float32: each [C, H, w] input zero-padded on the right."""
    widest = max(image.shape[2] for image in images)
    batch = np.zeros((len(images),) + images[0].shape[:2] + (widest,), dtype=np.float32)
    for i, image in enumerate(images):
        batch[i, :, :, :image.shape[2]] = image
    return batch
