"""SimpleDataSet: images on disk listed in PaddleOCR label files."""
from __future__ import annotations

import json
import os
import random
import zlib
from typing import List, Optional, Tuple, Union

from ...errors import ConfigError
from ...registry import DATASETS
from ..label_file import parse_line, read_lines
from .base import RecDataset, SampleError


@DATASETS.register
class SimpleDataSet(RecDataset):
    """Samples from `label_file_list` (lines `path<delimiter>label`, paths relative to `data_dir`;
    a path starting with '[' is a JSON list, one picked at random per read).

    `ratio_list` sub-samples each file (`round(len * ratio)` lines, seeded); in train mode the
    lines are always sampled and, with `shuffle`, shuffled - PaddleOCR's exact order for a seed.
    `holdout: {fraction: f, use: rest | held_out}` splits the lines by a stable hash of the image
    path: a validation slice of a train set (`held_out`) that training (`rest`) never sees.
    Labels are checked when the dataset is built; each item is the transformed sample (KeepKeys'
    list, e.g. [image float32 [3, 32, 100], label int64 [25], length int64]). `mode`, `seed`,
    `shuffle` (the loader's), `global_config` and `key_prefix` are passed by build_dataset."""

    def __init__(self, data_dir: str, label_file_list: Union[str, List[str]], transforms: List[dict],
                 ratio_list: Union[float, List[float]] = 1.0, delimiter: str = "\t",
                 ext_op_transform_idx: int = 2, holdout: Optional[dict] = None,
                 mode: str = "train", seed: Optional[int] = None,
                 shuffle: bool = False, global_config: Optional[dict] = None,
                 key_prefix: str = "dataset"):
        super().__init__(transforms, mode, global_config, key_prefix)
        if not label_file_list:
            raise ConfigError(f"{key_prefix}.label_file_list: expected one or more label files")
        self.data_dir = data_dir
        self.label_files = [label_file_list] if isinstance(label_file_list, str) else list(label_file_list)
        ratio_list = 1.0 if ratio_list is None else ratio_list
        ratios = [ratio_list] * len(self.label_files) if isinstance(ratio_list, (int, float)) else list(ratio_list)
        if len(ratios) != len(self.label_files):
            raise ConfigError(f"{key_prefix}.ratio_list: {len(ratios)} ratios for "
                              f"{len(self.label_files)} label files")
        self.delimiter = delimiter
        self.ext_op_transform_idx = ext_op_transform_idx  # for RecConAug-style ops; none here use it
        self.need_reset = any(r < 1 for r in ratios)
        self.holdout = self._holdout(holdout, f"{key_prefix}.holdout")
        lines = self._sample_lines(ratios, seed)
        if self.mode == "train" and shuffle:
            random.Random(seed).shuffle(lines)
        self.entries: List[Tuple[str, str, str]] = []
        for file_index, number, raw in lines:
            self._index_line(self.label_files[file_index], number, raw)
        self._finish_scan(", ".join(self.label_files))

    def _sample_lines(self, ratios: List[float], seed: Optional[int]) -> list:
        lines = []
        for file_index, (path, ratio) in enumerate(zip(self.label_files, ratios)):
            numbered = [(file_index, number, raw) for number, raw in enumerate(read_lines(path), 1)]
            if self.mode == "train" or ratio < 1.0:
                numbered = random.Random(seed).sample(numbered, round(len(numbered) * ratio))
            lines.extend(numbered)
        return lines

    @staticmethod
    def _holdout(holdout: Optional[dict], where: str) -> Optional[Tuple[float, bool]]:
        """(fraction, keep the held-out part) from the config, or None."""
        if not holdout:
            return None
        fraction, use = (holdout.get("fraction"), holdout.get("use")) if isinstance(holdout, dict) else (None, None)
        if (use not in ("rest", "held_out") or set(holdout) - {"fraction", "use"}
                or not isinstance(fraction, (int, float)) or not 0 < fraction < 1):
            raise ConfigError(f"{where}: expected {{fraction: 0 < f < 1, use: rest | held_out}}, got {holdout!r}")
        return float(fraction), use == "held_out"

    def _index_line(self, label_file: str, number: int, raw: bytes) -> None:
        source = f"{label_file}:{number}"
        try:
            parsed = parse_line(raw, self.delimiter)
        except ValueError as exc:
            self._note_scan("malformed_line", f"{source}: {exc}")
            return
        if parsed is None:
            return
        path, label = parsed
        if self.holdout is not None:
            fraction, keep_held_out = self.holdout
            # crc32 of the path: the same slice on every machine, whatever the line order
            if (zlib.crc32(path.encode("utf-8")) % 10000 < fraction * 10000) != keep_held_out:
                return
        if self._scan_label(label, f"{source} ({path})"):
            self.entries.append((path, label, f"{source} ({path})"))

    def describe(self) -> str:
        # the folder too: benchmark label files are all called labels.txt
        files = ", ".join(os.path.join(os.path.basename(os.path.dirname(os.path.abspath(p))), os.path.basename(p))
                          for p in self.label_files)
        part = f", {'held-out' if self.holdout[1] else 'rest'} {self.holdout[0]:g}" if self.holdout else ""
        return f"SimpleDataSet({files}{part})"

    def __len__(self) -> int:
        return len(self.entries)

    def _read(self, index: int):
        path, label, source = self.entries[index]
        if path.startswith("["):
            try:
                path = random.choice(json.loads(path))
            except (ValueError, IndexError, TypeError) as exc:
                raise SampleError("malformed_line", source, f"bad JSON path list: {exc}") from None
        image_path = os.path.join(self.data_dir, path)
        try:
            with open(image_path, "rb") as handle:
                image = handle.read()
        except OSError as exc:
            raise SampleError("missing_image", source, f"cannot read {image_path} ({exc.strerror})") from None
        return {"img_path": image_path, "label": label, "image": image}, source
