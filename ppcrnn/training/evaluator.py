"""Evaluation loop: model outputs -> decoded texts -> RecMetric, with a tqdm progress bar."""
from __future__ import annotations

import contextlib
import time
from typing import Callable, Dict, Optional

import numpy as np
import paddle
from tqdm import tqdm

from ..data.width_batches import predictor_width, width_sorted_chunks

# PaddleOCR's rec_batch_num: its predictor reads crops sorted by aspect ratio, 6 at a time.
PREDICTOR_BATCH = 6


def evaluate(model: paddle.nn.Layer, loader, post_process, metric,
             label_decoder: Optional[Callable] = None, autocast: Optional[Callable] = None,
             description: str = "eval", progress: bool = True) -> Dict[str, float]:
    """Run `model` (eval mode, no grad) over `loader` batches `[images, labels, lengths, ...]`.

    Returns the metric's totals (`acc`, `norm_edit_dis`), `fps` (images per second of model time,
    PaddleOCR's definition) and `samples`. `label_decoder` decodes the label indices when they were
    encoded with another character set than the model's (the benchmark protocol); by default the
    post-processor decodes both. `autocast` is a context factory for mixed precision. Sets resized
    like the predictor (`eval_mode`) are read in the predictor's batches: sorted by content width,
    6 at a time, each cut to its widest crop (a BiLSTM reads padding too: the backward direction
    starts in it, so a narrow crop padded to the widest of 32 file-ordered crops reads worse)."""
    was_training = model.training
    model.eval()
    metric.reset()
    samples, model_seconds = 0, 0.0
    min_width = predictor_width(getattr(loader, "dataset", None))
    bar = tqdm(total=len(loader), desc=description, disable=not progress, leave=False, dynamic_ncols=True)
    try:
        with paddle.no_grad():
            for batch in loader:
                images = batch[0].numpy() if isinstance(batch[0], paddle.Tensor) else np.asarray(batch[0])
                labels = batch[1].numpy() if isinstance(batch[1], paddle.Tensor) else np.asarray(batch[1])
                chunks = (width_sorted_chunks(images, min_width, PREDICTOR_BATCH) if min_width
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
