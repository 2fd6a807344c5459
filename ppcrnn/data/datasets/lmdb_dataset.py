"""LMDBDataSet: DTRB-layout LMDB folders (keys num-samples, image-%09d, label-%09d, from 1)."""
from __future__ import annotations

import os
from typing import Dict, List, Optional

import lmdb
import numpy as np

from ...errors import DataError
from ...registry import DATASETS
from .base import RecDataset, SampleError


def find_lmdb_folders(data_dir: str, warn) -> List[str]:
    """Every folder under `data_dir` holding a data.mdb, sorted. Leaf folders without one (e.g.
    `.ipynb_checkpoints`, which breaks PaddleOCR, #3838) are skipped with a warning."""
    if not os.path.isdir(data_dir):
        raise DataError(f"{data_dir}: LMDB data_dir not found")
    found = []
    for folder, subfolders, files in os.walk(data_dir):
        if "data.mdb" in files:
            found.append(folder)
        elif not subfolders:
            warn(f"{folder}: not an LMDB folder (no data.mdb), skipped")
    return sorted(found)


def _open(folder: str) -> lmdb.Environment:
    return lmdb.open(folder, max_readers=32, readonly=True, lock=False, readahead=False, meminit=False)


@DATASETS.register
class LMDBDataSet(RecDataset):
    """Samples from every LMDB folder under `data_dir` (concatenated in sorted folder order).

    With `scan_labels` (default) all labels are read once at construction so bad ones are
    dropped and reported up front (a cursor pass; seconds for millions of samples); without it
    they are caught when read. Train mode with `shuffle` permutes the index once (seeded).
    Environments are opened lazily per process, so DataLoader workers each get their own.
    `mode`, `seed`, `shuffle` (the loader's), `global_config`, `key_prefix` come from build_dataset."""

    def __init__(self, data_dir: str, transforms: List[dict], ext_op_transform_idx: int = 1,
                 scan_labels: bool = True, mode: str = "train", seed: Optional[int] = None,
                 shuffle: bool = False, global_config: Optional[dict] = None,
                 key_prefix: str = "dataset"):
        super().__init__(transforms, mode, global_config, key_prefix)
        self.data_dir = data_dir
        self.ext_op_transform_idx = ext_op_transform_idx
        self.folders: List[str] = []
        blocks = []
        for folder in find_lmdb_folders(data_dir, self.logger.warning):
            keys = self._index_folder(folder, len(self.folders), scan_labels)
            if keys is not None:
                self.folders.append(folder)
                blocks.append(keys)
        self.index = np.concatenate(blocks) if blocks else np.zeros((0, 2), np.int64)
        if self.mode == "train" and shuffle:
            np.random.RandomState(seed).shuffle(self.index)
        self._envs: Dict[int, lmdb.Environment] = {}
        self._env_pid = None
        self._finish_scan(data_dir)

    def _index_folder(self, folder: str, folder_id: int, scan: bool) -> Optional[np.ndarray]:
        """[n, 2] (folder id, 1-based key) of the usable samples, or None if not readable."""
        try:
            env = _open(folder)
        except lmdb.Error as exc:
            self.logger.warning(f"{folder}: cannot open as LMDB ({exc}), skipped")
            return None
        with env.begin(write=False) as txn:
            raw = txn.get(b"num-samples")
            if raw is None or not raw.strip().isdigit():
                self.logger.warning(f"{folder}: no valid 'num-samples' key, skipped")
                env.close()
                return None
            count = int(raw)
            keep = np.ones(count + 1, dtype=bool)
            keep[0] = False
            if scan:
                self._scan_folder(txn, folder, count, keep)
        env.close()
        keys = np.nonzero(keep)[0]
        return np.stack([np.full(len(keys), folder_id), keys], 1).astype(np.int64)

    def _scan_folder(self, txn, folder: str, count: int, keep: np.ndarray) -> None:
        seen = np.zeros(count + 1, dtype=bool)
        cursor = txn.cursor()
        if cursor.set_range(b"label-"):
            for key, value in cursor:
                if not key.startswith(b"label-"):
                    break
                number = int(key[6:]) if key[6:].isdigit() else 0
                if not 1 <= number <= count:
                    continue
                seen[number] = True
                source = f"{folder}#{number}"
                try:
                    label = value.decode("utf-8")
                except UnicodeDecodeError:
                    self._note_scan("malformed_line", f"{source}: label is not UTF-8")
                    keep[number] = False
                    continue
                keep[number] = self._scan_label(label, source)
        for number in np.nonzero(~seen[1:])[0] + 1:
            self._note_scan("missing_label", f"{folder}#{number}")
            keep[number] = False

    def describe(self) -> str:
        return f"LMDBDataSet({self.data_dir})"

    def __len__(self) -> int:
        return len(self.index)

    def _env(self, folder_id: int) -> lmdb.Environment:
        if self._env_pid != os.getpid():  # environments must not cross a fork
            self._envs, self._env_pid = {}, os.getpid()
        if folder_id not in self._envs:
            self._envs[folder_id] = _open(self.folders[folder_id])
        return self._envs[folder_id]

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_envs"], state["_env_pid"] = {}, None
        return state

    def _read(self, index: int):
        folder_id, number = (int(v) for v in self.index[index])
        source = f"{self.folders[folder_id]}#{number}"
        with self._env(folder_id).begin(write=False) as txn:
            label = txn.get(b"label-%09d" % number)
            image = txn.get(b"image-%09d" % number)
        if label is None:
            raise SampleError("missing_label", source)
        if image is None:
            raise SampleError("missing_image", source, "no image key")
        try:
            text = label.decode("utf-8")
        except UnicodeDecodeError:
            raise SampleError("malformed_line", source, "label is not UTF-8") from None
        return {"label": text, "image": image}, source
