"""Evaluation loop: model outputs -> decoded texts -> RecMetric, with a tqdm progress bar."""
from __future__ import annotations

import contextlib
import time
from typing import Callable, Dict, Optional

import paddle
from tqdm import tqdm


def evaluate(model: paddle.nn.Layer, loader, post_process, metric,
             label_decoder: Optional[Callable] = None, autocast: Optional[Callable] = None,
             description: str = "eval", progress: bool = True) -> Dict[str, float]:
    """Run `model` (eval mode, no grad) over `loader` batches `[images, labels, lengths, ...]`.

    Returns the metric's totals (`acc`, `norm_edit_dis`), `fps` (images per second of model time,
    PaddleOCR's definition) and `samples`. `label_decoder` decodes the label indices when they were
    encoded with another character set than the model's (the benchmark protocol); by default the
    post-processor decodes both. `autocast` is a context factory for mixed precision."""
    was_training = model.training
    model.eval()
    metric.reset()
    samples, model_seconds = 0, 0.0
    bar = tqdm(total=len(loader), desc=description, disable=not progress, leave=False, dynamic_ncols=True)
    try:
        with paddle.no_grad():
            for batch in loader:
                images = batch[0]
                start = time.perf_counter()
                with (autocast() if autocast else contextlib.nullcontext()):
                    preds = model(images)
                preds = (preds[-1] if isinstance(preds, (list, tuple)) else preds).astype("float32").numpy()
                model_seconds += time.perf_counter() - start
                labels = batch[1].numpy() if isinstance(batch[1], paddle.Tensor) else batch[1]
                if label_decoder is None:
                    decoded = post_process(preds, labels)
                else:
                    decoded = (post_process(preds), label_decoder(labels))
                metric(decoded)
                samples += int(images.shape[0])
                bar.update(1)
    finally:
        bar.close()
        if was_training:
            model.train()
    result = metric.get_metric()
    result["fps"] = samples / model_seconds if model_seconds > 0 else 0.0
    result["samples"] = samples
    return result
