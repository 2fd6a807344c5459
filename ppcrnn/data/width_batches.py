"""Batches cut by content width: right-padded crops sorted by width so each batch pads little.

Padding (PadCollate, RecResizeImg) is exactly 0, a value no normalised uint8 pixel takes, so a
crop's content width is its last column holding a non-zero value."""
from __future__ import annotations

from typing import Iterator, List, Optional, Tuple

import numpy as np
import paddle


def predictor_width(dataset) -> Optional[int]:
    """The minimum width W when `dataset` is resized like the predictor (RecResizeImg `eval_mode`:
    widths vary from W up), else None (fixed-width crops)."""
    for op in getattr(dataset, "ops", []):
        if getattr(op, "dynamic_width", False):
            return int(op.image_shape[2])
    return None


def content_widths(images: np.ndarray) -> np.ndarray:
    """[N] content widths of right-padded images [N, C, H, W] (0 for an all-padding image)."""
    filled = np.any(images != 0, axis=(1, 2))
    return np.where(filled.any(axis=1), images.shape[-1] - np.argmax(filled[:, ::-1], axis=1), 0)


def width_sorted_chunks(images: np.ndarray, min_width: int,
                        size: int) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """Re-batch right-padded images [N, C, H, W]: sorted by content width, `size` at a time, each
    chunk cut to max(min_width, its widest content). Yields (indices into N, images)."""
    widths = content_widths(images)
    order = np.argsort(widths, kind="stable")
    for start in range(0, len(order), size):
        index = order[start:start + size]
        yield index, images[index][..., :max(min_width, int(widths[index].max()))]


def _numpy(value) -> np.ndarray:
    return value.numpy() if isinstance(value, paddle.Tensor) else np.asarray(value)


def _pad_to(images: np.ndarray, width: int) -> np.ndarray:
    return np.pad(images, [(0, 0)] * (images.ndim - 1) + [(0, width - images.shape[-1])])


class WidthRegroupedLoader:
    """A training DataLoader whose batches of varying-width crops (the predictor resize) are
    regrouped: every `pool` batches are pooled, sorted by content width and cut again into batches
    of the same size, each padded only to max(`min_width`, its widest crop).

    Why: a random batch of 32 pads to nearly the widest crop (~157 px of 160 for the quickstart,
    mean content 110), and compute grows with the padded width; sorted pools of 8 pad to ~114.
    Same number of batches and samples per epoch; fields after the image follow their images.
    With `pad_prob` > 0 each regrouped batch is, with that probability, right-padded further to a
    width drawn uniformly up to its pool's widest batch: a predictor that batches crops in file
    order (PaddleOCR's TextRecognition) pads short words that much, and the backward LSTM reads
    the padding, so a model trained on tight batches only loses words there. The draws depend
    only on (`seed`, the epoch given to set_epoch), so a resumed epoch pads the same.
    `dataset`, `batch_sampler` and `len()` are the wrapped loader's (for set_epoch and schedules)."""

    def __init__(self, loader, pool: int, min_width: int, pad_prob: float = 0.0, seed: int = 0):
        self.loader, self.pool, self.min_width = loader, pool, min_width
        self.pad_prob, self.seed, self.epoch = pad_prob, seed, 0
        self.dataset, self.batch_sampler = loader.dataset, loader.batch_sampler

    def __len__(self) -> int:
        return len(self.loader)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[List[paddle.Tensor]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        pending = []
        for batch in self.loader:
            pending.append([_numpy(field) for field in batch])
            if len(pending) == self.pool:
                yield from self._regroup(pending, rng)
                pending = []
        if pending:
            yield from self._regroup(pending, rng)

    def _regroup(self, batches: List[List[np.ndarray]],
                 rng: np.random.Generator) -> Iterator[List[paddle.Tensor]]:
        widths = [batch[0].shape[-1] for batch in batches]
        images = np.concatenate([_pad_to(batch[0], max(widths)) for batch in batches])
        fields = [np.concatenate([batch[i] for batch in batches]) for i in range(1, len(batches[0]))]
        sizes = [len(batch[0]) for batch in batches]
        chunks = width_sorted_chunks(images, self.min_width, size=max(sizes))
        for index, chunk in chunks:
            if self.pad_prob and rng.random() < self.pad_prob:
                chunk = _pad_to(chunk, int(rng.integers(chunk.shape[-1], max(widths), endpoint=True)))
            yield [paddle.to_tensor(chunk)] + [paddle.to_tensor(field[index]) for field in fields]
