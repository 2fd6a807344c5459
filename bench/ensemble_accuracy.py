"""Is there accuracy left between checkpoints, or in the CTC decision itself? For one or more
exports of the same network and a few labelled folders (validation sets: choose nothing on the
test sets), prints the benchmark-protocol accuracy (lower-case, [0-9a-z], exact match) of

* each export alone,
* the mean of their softmax probabilities (an ensemble: when it reads no more than the best of
  them, the checkpoints make the same errors, and neither a further weight mean nor distilling
  them into one model promises a gain),
* the first export with its blank probability scaled by each `--blank_scales` factor before the
  greedy decoding: the same as adding log(factor) to the head's blank bias, so a factor above 1
  trades insertions for deletions and below 1 the reverse.

Crops run one at a time (no padding; PaddleOCR's batch-1 reading) through ppcrnn's Recognizer.

    python bench/ensemble_accuracy.py --model_dirs ppcrnn/models/en_mv3_crnn/inference OTHER_EXPORT \
        --data_dirs VAL_FOLDER ... --blank_scales 0.5 2
"""
from __future__ import annotations

import argparse
import sys
from typing import List

import numpy as np

from accuracy import protocol_text, read_set, set_name
from common import print_table

from ppcrnn.utils.cli import run_tool


def variant_names(model_dirs: List[str], blank_scales: List[float]) -> List[str]:
    names = list(model_dirs)
    if len(model_dirs) > 1:
        names.append(f"mean of the {len(model_dirs)} models' probabilities")
    names += [f"{model_dirs[0]}, blank x {scale:g}" for scale in blank_scales]
    return names


def count_correct(recognizers: list, names: List[str], folder: str, blank_scales: List[float]):
    """({variant name: [correct, words]}, skipped) on `folder`: crops whose label is empty under
    the protocol or whose image cannot be read are skipped, counted and logged."""
    from ppcrnn.inference.preprocess import read_image, resize_norm, stack_batch
    from ppcrnn.utils.logging import get_logger
    first = recognizers[0]
    counts = {name: [0, 0] for name in names}
    skipped = 0
    for path, label in read_set(folder):
        truth = protocol_text(label)
        try:
            if not truth:
                raise ValueError(f"{path}: label {label!r} is empty under the protocol")
            crop = read_image(path, first.config.img_mode, path)
        except (OSError, ValueError) as exc:
            skipped += 1
            get_logger().warning(f"skipped: {exc}")
            continue
        batch = stack_batch([resize_norm(crop, first.config.image_shape)])
        probabilities = [recognizer.run(batch) for recognizer in recognizers]
        if len(probabilities) > 1:
            probabilities.append(np.mean(probabilities, axis=0))
        for scale in blank_scales:
            scaled = probabilities[0].copy()
            scaled[..., 0] *= scale
            probabilities.append(scaled)
        for name, probs in zip(names, probabilities):
            counts[name][0] += protocol_text(first.decoder(probs)[0][0]) == truth
            counts[name][1] += 1
    return counts, skipped


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model_dirs", nargs="+", required=True,
                        help="exports of one network (same classes and input shape)")
    parser.add_argument("--data_dirs", nargs="+", required=True, help="folders with labels.txt")
    parser.add_argument("--blank_scales", nargs="*", type=float, default=[],
                        help="factors for the first model's blank probability")
    args = parser.parse_args(argv)
    if any(scale <= 0 for scale in args.blank_scales):
        parser.error("--blank_scales: every factor must be positive")

    def action():
        from ppcrnn.inference import Recognizer
        from ppcrnn.errors import ConfigError
        recognizers = [Recognizer(model_dir, batch_size=1) for model_dir in args.model_dirs]
        first = recognizers[0].config
        for recognizer in recognizers[1:]:
            if (recognizer.config.characters, recognizer.config.image_shape) != (first.characters, first.image_shape):
                raise ConfigError(f"{recognizer.model_dir}: its characters or image_shape differ from "
                                  f"{args.model_dirs[0]}'s; only exports of one network can be averaged")
        names = variant_names(args.model_dirs, args.blank_scales)
        per_set, skipped = {}, {}
        for folder in args.data_dirs:
            per_set[set_name(folder)], skipped[set_name(folder)] = count_correct(
                recognizers, names, folder, args.blank_scales)
        rows = []
        for name in names:
            cells = [f"{counts[name][0]}/{counts[name][1]}" for counts in per_set.values()]
            # The sum of the per-set accuracies: the score S of the ship rules in bench/RESULTS.md.
            score = sum(counts[name][0] / max(counts[name][1], 1) for counts in per_set.values())
            rows.append([name, *cells, f"{score:.4f}"])
        rows.append(["skipped", *(str(count) for count in skipped.values()), ""])
        print_table("Correct / words (lower-case, [0-9a-z], exact match; batch 1)",
                    ["variant", *per_set, "sum of accuracies"], rows)

    return run_tool(action, (ImportError,))


if __name__ == "__main__":
    sys.exit(main())
