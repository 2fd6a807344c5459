"""Evaluation loop: model outputs -> decoded texts -> RecMetric, with a tqdm progress bar."""
from __future__ import annotations

import contextlib
import time
from typing import Callable, Dict, Iterator, Optional, Tuple

import numpy as np
import paddle
from tqdm import tqdm

# PaddleOCR's rec_batch_num: its predictor reads crops sorted by aspect ratio, 6 at a time.
PREDICTOR_BATCH = 6


def predictor_width(loader) -> Optional[int]:
    """The minimum width W when the loader's set is resized like the predictor (RecResizeImg
    `eval_mode`), else None: fixed-width sets are evaluated as they are, like PaddleOCR does."""
    for op in getattr(getattr(loader, "dataset", None), "ops", []):
        if getattr(op, "dynamic_width", False):
            return int(op.image_shape[2])
    return None


def predictor_chunks(images: np.ndarray, min_width: int,
                     size: int = PREDICTOR_BATCH) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """Re-batch a right-padded batch [N, C, H, W] the way the predictor batches crops: sorted by
    content width, `size` at a time, each chunk cut to max(min_width, its widest content).

    Why: a BiLSTM reads the padding too (the backward direction starts in it), so a narrow crop
    padded to the widest of 32 file-ordered crops reads worse than it would in deployment. Padding
    is exactly 0, a value no normalised uint8 pixel takes. Yields (indices into N, images)."""
    filled = np.any(images != 0, axis=(1, 2))
    widths = np.where(filled.any(axis=1), images.shape[-1] - np.argmax(filled[:, ::-1], axis=1), 0)
    order = np.argsort(widths, kind="stable")
    for start in range(0, len(order), size):
        index = order[start:start + size]
        yield index, images[index][..., :max(min_width, int(widths[index].max()))]


def evaluate(model: paddle.nn.Layer, loader, post_process, metric,
             label_decoder: Optional[Callable] = None, autocast: Optional[Callable] = None,
             description: str = "eval", progress: bool = True) -> Dict[str, float]:
    """Run `model` (eval mode, no grad) over `loader` batches `[images, labels, lengths, ...]`.

    Returns the metric's totals (`acc`, `norm_edit_dis`), `fps` (images per second of model time,
    PaddleOCR's definition) and `samples`. `label_decoder` decodes the label indices when they were
    encoded with another character set than the model's (the benchmark protocol); by default the
    post-processor decodes both. `autocast` is a context factory for mixed precision. Sets resized
    like the predictor (`eval_mode`) are read in the predictor's batches (`predictor_chunks`)."""
    was_training = model.training
    model.eval()
    metric.reset()
    samples, model_seconds = 0, 0.0
    min_width = predictor_width(loader)
    bar = tqdm(total=len(loader), desc=description, disable=not progress, leave=False, dynamic_ncols=True)
    try:
        with paddle.no_grad():
            for batch in loader:
                images = batch[0].numpy() if isinstance(batch[0], paddle.Tensor) else np.asarray(batch[0])
                labels = batch[1].numpy() if isinstance(batch[1], paddle.Tensor) else np.asarray(batch[1])
                chunks = (predictor_chunks(images, min_width) if min_width
                          else [(np.arange(len(images)), images)])
                for index, chunk in chunks:
                    start = time.perf_counter()
                    with (autocast() if autocast else contextlib.nullcontext()):
                        preds = model(paddle.to_tensor(chunk))
                    preds = (preds[-1] if isinstance(preds, (list, tuple)) else preds).astype("float32").numpy()
                    model_seconds += time.perf_counter() - start
                    if label_decoder is None:
                        decoded = post_process(preds, labels[index])
                    else:
                        decoded = (post_process(preds), label_decoder(labels[index]))
                    metric(decoded)
                samples += len(images)
                bar.update(1)
    finally:
        bar.close()
        if was_training:
            model.train()
    result = metric.get_metric()
    result["fps"] = samples / model_seconds if model_seconds > 0 else 0.0
    result["samples"] = samples
    return result
