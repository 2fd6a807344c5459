"""What every recognition dataset shares: building the transforms, dropping bad samples with a
reason, replacing them, and reporting the counts at start and per epoch."""
from __future__ import annotations

import collections
import random
from typing import Dict, List, Optional, Tuple

import numpy as np
from paddle.io import Dataset

from ...errors import DataError
from ...losses.feasibility import ctc_min_length
from ...utils.logging import get_logger
from ..label_rules import PIXELS_PER_FRAME, LabelRules
from ..skips import EXAMPLES_PER_REASON, REASONS, SkipLog, format_counts
from ..transforms import DecodeImage, KeepKeys, RecResizeImg, create_operators

# A run of this many failed samples in a row means the data is unusable, not unlucky.
MAX_CONSECUTIVE_FAILURES = 50


class SampleError(Exception):
    """A sample that cannot be used: `reason` is a skips.REASONS key, `source` says where it is."""

    def __init__(self, reason: str, source: str, detail: str = ""):
        super().__init__(f"{source}: {REASONS.get(reason, reason)}{': ' + detail if detail else ''}")
        self.reason, self.source, self.detail = reason, source, detail


class RecDataset(Dataset):
    """Base class. Subclasses implement `__len__`, `_read(index) -> (data dict, source)` raising
    SampleError, and `describe()`; they call `_scan_label` while indexing and `_finish_scan`.

    `__getitem__` returns the transformed sample (KeepKeys' list). A bad sample is recorded and
    replaced: by a random index in train mode (as PaddleOCR), the next index in eval mode."""

    def __init__(self, transforms: list, mode: str, global_config: Optional[dict], key_path: str):
        self.mode = mode.lower()
        self.ops = create_operators(transforms, global_config, f"{key_path}.transforms")
        self.rules = LabelRules.from_ops(self.ops, global_config)
        self.keep_keys = self.ops[-1].keep_keys if isinstance(self.ops[-1], KeepKeys) else None
        self.need_reset = False
        self.skips = SkipLog()
        self.scan_counts: Dict[str, int] = collections.Counter()
        self.scan_examples: Dict[str, List[str]] = collections.defaultdict(list)
        self.partial_oov = 0
        self.partial_oov_examples: List[str] = []
        self._warned: set = set()
        self.logger = get_logger()

    # ---- subclass interface -------------------------------------------------------------
    def describe(self) -> str:
        raise NotImplementedError

    def _read(self, index: int) -> Tuple[dict, str]:
        raise NotImplementedError

    def set_epoch(self, epoch: int) -> None:
        """Called by the trainer before each epoch; datasets that vary per epoch override it."""

    # ---- construction-time scan -----------------------------------------------------------
    def _scan_label(self, label: str, source: str) -> bool:
        """Count `label` if it will be dropped (or is partly outside the dictionary); True to keep."""
        reason, partial = self.rules.check(label)
        if reason is not None:
            self._note_scan(reason, f"{source}: {label[:40]!r}")
            return False
        if partial:
            self.partial_oov += 1
            if len(self.partial_oov_examples) < EXAMPLES_PER_REASON:
                self.partial_oov_examples.append(f"{source}: {label[:40]!r}")
        return True

    def _note_scan(self, reason: str, example: str) -> None:
        self.scan_counts[reason] += 1
        if len(self.scan_examples[reason]) < EXAMPLES_PER_REASON:
            self.scan_examples[reason].append(example)

    def scan_report(self) -> str:
        """What the construction-time label scan dropped or flagged."""
        total = len(self) + sum(self.scan_counts.values())
        text = f"{self.describe()}: {len(self)} usable samples, " + format_counts(
            dict(self.scan_counts), dict(self.scan_examples), total)
        if self.partial_oov:
            text += (f"\n  kept, characters outside the dictionary removed: {self.partial_oov} "
                     f"(first: {'; '.join(self.partial_oov_examples)})")
        return text

    def _finish_scan(self, where: str) -> None:
        """Log the scan; fail naming `where` (the label files / folder) when nothing is left."""
        if len(self) == 0:
            raise DataError(f"{where}: no usable sample. {self.scan_report()}")
        if self.scan_counts:
            self.logger.warning(self.scan_report())
        else:
            self.logger.info(self.scan_report())

    # ---- per-epoch accounting ---------------------------------------------------------------
    def skip_counts(self) -> Dict[str, int]:
        """Samples skipped at run time (all worker processes) since the last reset, by reason."""
        return self.skips.counts()[0]

    def skip_report(self, reset: bool = True) -> str:
        """One line per reason with the first examples; '' when nothing was skipped."""
        counts, examples = self.skips.counts()
        if reset:
            self.skips.reset()
        if not counts:
            return ""
        return f"{self.describe()}: " + format_counts(counts, examples)

    def reset_skips(self) -> None:
        self.skips.reset()

    # ---- loading --------------------------------------------------------------------------
    def __getitem__(self, index: int):
        last = None
        for _ in range(MAX_CONSECUTIVE_FAILURES):
            try:
                return self._load(index)
            except SampleError as err:
                self.skips.record(err.reason, err.source, err.detail)
                if err.reason not in self._warned:
                    self._warned.add(err.reason)
                    self.logger.warning(f"{self.describe()}: skipping {err} (counted in the epoch report)")
                last = err
            index = random.randrange(len(self)) if self.mode == "train" else (index + 1) % len(self)
        raise DataError(f"{self.describe()}: {MAX_CONSECUTIVE_FAILURES} samples in a row failed; "
                        f"last: {last}")

    def _load(self, index: int):
        data, source = self._read(index)
        reason, _ = self.rules.check(data["label"])
        if reason is not None:
            raise SampleError(reason, source, repr(data["label"][:40]))
        return self._apply(data, source)

    def _apply(self, data: dict, source: str):
        check_frames = self.rules.active and self.rules.frames is None
        resized = False
        for op in self.ops:
            if isinstance(op, KeepKeys) and check_frames and resized:
                self._check_frames(data, source)
                check_frames = False
            try:
                out = op(data)
            except Exception as exc:  # one bad sample must not end the run; it is counted instead
                raise SampleError("transform_failed", source, f"{type(op).__name__}: {exc}") from None
            if out is None:
                if isinstance(op, DecodeImage):
                    raise SampleError("corrupt_image", source, "the image does not decode")
                raise SampleError("transform_failed", source, f"{type(op).__name__} dropped it")
            data = out
            resized = resized or isinstance(op, RecResizeImg)
        if check_frames and resized and isinstance(data, dict):
            self._check_frames(data, source)
        return data

    @staticmethod
    def _check_frames(data: dict, source: str) -> None:
        """Dynamic-width images: the label must fit the T = W'/4 frames of this very image."""
        if "length" not in data or not isinstance(data.get("image"), np.ndarray):
            return
        frames = data["image"].shape[-1] // PIXELS_PER_FRAME
        indices = np.asarray(data["label"])[: int(data["length"])]
        if ctc_min_length(indices) > frames:
            raise SampleError("infeasible", source, f"needs {ctc_min_length(indices)} frames, has {frames}")
