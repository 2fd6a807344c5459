"""`Recognizer`: word crops in, `(text, score)` out, from an exported model directory.

It reads `inference.yml` (image height, colour order, characters exactly as PaddleX does), runs
the model with Paddle Inference or ONNX Runtime, and decodes with ppcrnn's CTCLabelDecode
(greedy, beam or lexicon). Crops are sorted by aspect ratio, preprocessed like PaddleX
(`preprocess.resize_norm`), batched `batch_size` at a time (zero-padded to the widest in the batch)
and the results returned in input order."""
from __future__ import annotations

import os
import tempfile
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import ConfigError
from ..postprocess import CTCLabelDecode
from .engines import build_engine
from .inference_config import InferenceConfig
from .preprocess import read_image, resize_norm, stack_batch


def _decoder(characters: Sequence[str], **options: Any) -> CTCLabelDecode:
    """CTCLabelDecode (with `options` such as mode) over an explicit class list (blank first) via a
    one-off dictionary file."""
    with tempfile.TemporaryDirectory(prefix="ppcrnn-dict-") as folder:
        path = os.path.join(folder, "dict.txt")
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write("".join(char + "\n" for char in characters[1:]))
        return CTCLabelDecode(path, False, **options)


class Recognizer:
    """Recognise word crops with an exported model.

    `images` are file paths, BGR numpy arrays (HxW, HxWx1, HxWx3, HxWx4 uint8) or PIL images, or a
    single one of those. Returns one `(text, score)` per image, in input order."""

    def __init__(self, model_dir: str, engine: str = "paddle", batch_size: int = 6, cpu_threads: int = 4,
                 enable_mkldnn: bool = True, use_gpu: Optional[bool] = None, mode: str = "greedy",
                 beam_width: int = 10, lexicon_path: Optional[str] = None, lexicon: Optional[list] = None,
                 max_edit_distance: int = 2, oov_penalty: Optional[float] = None, frequency_weight: float = 0.0):
        if batch_size < 1:
            raise ValueError(f"batch_size: must be at least 1, got {batch_size}")
        self.model_dir = model_dir
        self.config = InferenceConfig.load(model_dir)
        self.batch_size = batch_size
        self.engine = build_engine(model_dir, engine, cpu_threads, enable_mkldnn, use_gpu)
        self.decoder = _decoder(self.config.characters, mode=mode, beam_width=beam_width,
                                lexicon_path=lexicon_path, lexicon=lexicon,
                                max_edit_distance=max_edit_distance, oov_penalty=oov_penalty,
                                frequency_weight=frequency_weight)

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Softmax probabilities [N, T, C] for a preprocessed, padded batch [N, 3, H, W]."""
        probs = self.engine(batch)
        if probs.shape[-1] > len(self.config.characters):
            raise ConfigError(f"{self.model_dir}: the model predicts {probs.shape[-1]} classes but "
                              f"inference.yml's character_dict gives {len(self.config.characters)} "
                              f"(with blank and PaddleX's appended space)")
        return probs

    def __call__(self, images: Any) -> List[Tuple[str, float]]:
        if isinstance(images, (str, os.PathLike, np.ndarray)) or hasattr(images, "convert"):
            images = [images]
        crops = [read_image(image, self.config.img_mode, f"images[{i}]") for i, image in enumerate(images)]
        # Sorting by aspect ratio keeps similar widths together, so little padding is read by the
        # backward LSTM (padding changes its results).
        order = np.argsort([crop.shape[1] / crop.shape[0] for crop in crops], kind="stable")
        results: List[Optional[Tuple[str, float]]] = [None] * len(crops)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            batch = stack_batch([resize_norm(crops[i], self.config.image_shape) for i in chunk])
            for index, (text, score) in zip(chunk, self.decoder(self.run(batch))):
                results[index] = (text, float(score))
        return results

    predict = __call__
