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

from accuracy import protocol_text, set_name, usable_samples
from common import print_table

from ppcrnn.utils.cli import run_tool


def variant_names(model_dirs: List[str], blank_scales: List[float]) -> List[str]:
    names = list(model_dirs)
    if len(model_dirs) > 1:
        names.append(f"mean of the {len(model_dirs)} models' probabilities")
    names += [f"{model_dirs[0]}, blank x {scale:g}" for scale in blank_scales]
    return names


def count_correct(recognizers: list, names: List[str], folder: str, blank_scales: List[float]):
    """({variant name: correct}, words, skipped) on `folder` (bench/accuracy.py's skipping rules)."""
    from ppcrnn.inference.preprocess import read_image, resize_norm, stack_batch
    first = recognizers[0]
    correct = dict.fromkeys(names, 0)
    samples, skipped = usable_samples(folder)
    for path, label in samples:
        crop = read_image(path, first.config.img_mode, path)
        batch = stack_batch([resize_norm(crop, first.config.image_shape)])
        probabilities = [recognizer.run(batch) for recognizer in recognizers]
        if len(probabilities) > 1:
            probabilities.append(np.mean(probabilities, axis=0))
        for scale in blank_scales:
            scaled = probabilities[0].copy()
            scaled[..., 0] *= scale
            probabilities.append(scaled)
        for name, probs in zip(names, probabilities):
            correct[name] += protocol_text(first.decoder(probs)[0][0]) == protocol_text(label)
    return correct, len(samples), skipped


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
        per_set = {set_name(folder): count_correct(recognizers, names, folder, args.blank_scales)
                   for folder in args.data_dirs}
        rows = []
        for name in names:
            cells = [f"{correct[name]}/{words}" for correct, words, _ in per_set.values()]
            # The sum of the per-set accuracies: the score S of the ship rules in bench/RESULTS.md.
            score = sum(correct[name] / max(words, 1) for correct, words, _ in per_set.values())
            rows.append([name, *cells, f"{score:.4f}"])
        rows.append(["skipped", *(str(skipped) for _, _, skipped in per_set.values()), ""])
        print_table("Correct / words (lower-case, [0-9a-z], exact match; batch 1)",
                    ["variant", *per_set, "sum of accuracies"], rows)

    return run_tool(action, (ImportError,))


if __name__ == "__main__":
    sys.exit(main())
