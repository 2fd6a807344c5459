"""Write PaddleOCR label files into one LMDB in the DTRB layout LMDBDataSet reads:
`num-samples` (ASCII), `image-%09d` (the encoded image bytes as on disk), `label-%09d` (UTF-8),
numbered from 1. Lines that cannot become a sample are skipped and listed, never fatal."""
from __future__ import annotations

import os
from typing import List, Sequence, Tuple

import cv2
import lmdb
import numpy as np

from ..errors import DataError
from .label_file import parse_line, read_lines

COMMIT_EVERY = 1000


def _samples(label_files: Sequence[str], data_dir: str, delimiter: str, skipped: List[str]):
    """(image path, label, 'file:line') of every well-formed line; the others go to `skipped`."""
    for label_file in label_files:
        for number, raw in enumerate(read_lines(label_file), 1):
            where = f"{label_file}:{number}"
            try:
                parsed = parse_line(raw, delimiter)
            except ValueError as exc:
                skipped.append(f"{where}: malformed line ({exc})")
                continue
            if parsed is None:
                continue
            path, label = parsed
            if not label:
                skipped.append(f"{where}: empty label")
            elif path.startswith("["):
                skipped.append(f"{where}: JSON path lists cannot go into an LMDB; list one image per line")
            else:
                yield os.path.join(data_dir, path), label, where


def create_lmdb(label_files: Sequence[str], data_dir: str, output: str, delimiter: str = "\t",
                check_images: bool = True) -> Tuple[int, List[str]]:
    """Write the samples of `label_files` to the LMDB folder `output`; returns (written, skipped
    descriptions). With `check_images` each image is decoded once and corrupt ones are skipped."""
    if os.path.exists(os.path.join(output, "data.mdb")):
        raise DataError(f"{output}: already holds an LMDB; choose a new folder")
    skipped: List[str] = []
    samples = list(_samples(label_files, data_dir, delimiter, skipped))
    total_bytes = sum(os.path.getsize(p) for p, _, _ in samples if os.path.isfile(p))
    os.makedirs(output, exist_ok=True)
    env = lmdb.open(output, map_size=2 * total_bytes + 64 * 1024 * 1024)
    written = 0
    txn = env.begin(write=True)
    try:
        for path, label, where in samples:
            if not os.path.isfile(path):
                skipped.append(f"{where}: missing image {path}")
                continue
            with open(path, "rb") as handle:
                image = handle.read()
            if check_images and cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR) is None:
                skipped.append(f"{where}: corrupt image {path}")
                continue
            written += 1
            txn.put(b"image-%09d" % written, image)
            txn.put(b"label-%09d" % written, label.encode("utf-8"))
            if written % COMMIT_EVERY == 0:
                txn.commit()
                txn = env.begin(write=True)
        txn.put(b"num-samples", str(written).encode("ascii"))
        txn.commit()
    except BaseException:
        txn.abort()
        raise
    finally:
        env.close()
    return written, skipped
