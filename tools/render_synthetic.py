"""Write a config's synthetic samples to disk as a PaddleOCR label-file set (PNG crops + labels.txt):

    python tools/render_synthetic.py -c configs/rec_en.yml -n 1000 --output DIR [--split Train]
        [--opt KEY=VALUE ...]

The samples are those SyntheticDataSet renders for that split (the first one inside a MixedDataSet),
before any transform, so any tool reading label files (tools/eval.py, bench/accuracy.py, PaddleOCR)
sees what training would. Freezing a set in font packages that training never draws gives a
validation set of unseen fonts; with `--opt` the overrides go to the config as in tools/train.py."""
import argparse
import os
import sys
from typing import Tuple

import cv2

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppcrnn.config import load_config  # noqa: E402
from ppcrnn.data import build_synthetic_dataset  # noqa: E402
from ppcrnn.utils.cli import run_tool  # noqa: E402

LABEL_FILE = "labels.txt"
IMAGE_DIR = "images"


def write_samples(dataset, count: int, output: str) -> Tuple[int, int]:
    """Render samples 0..count-1 into output/images/NNNNNN.png and output/labels.txt; returns how
    many were written and skipped (a sample the renderer cannot draw is skipped, as in training)."""
    os.makedirs(os.path.join(output, IMAGE_DIR), exist_ok=True)
    written = skipped = 0
    with open(os.path.join(output, LABEL_FILE), "w", encoding="utf-8") as labels:
        for index in range(count):
            try:
                sample = dataset.render(index)
            except Exception as exc:  # noqa: BLE001  the same skip-and-count as SyntheticDataSet._read
                print(f"skipped synthetic #{index}: {exc}", file=sys.stderr)
                skipped += 1
                continue
            name = f"{IMAGE_DIR}/{index:06d}.png"
            if not cv2.imwrite(os.path.join(output, name), sample["image"]):
                raise OSError(f"cannot write {os.path.join(output, name)}")
            labels.write(f"{name}\t{sample['label']}\n")
            written += 1
    return written, skipped


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True, help="config holding a SyntheticDataSet")
    parser.add_argument("--split", default="Train", choices=["Train", "Eval"])
    parser.add_argument("-n", "--num", type=int, default=1000, help="number of samples")
    parser.add_argument("--output", required=True, help="folder for images/ and labels.txt")
    parser.add_argument("--opt", nargs="+", default=[], metavar="KEY=VALUE", help="config overrides")
    args = parser.parse_args(argv)

    def action():
        dataset = build_synthetic_dataset(load_config(args.config, args.opt), args.split)
        written, skipped = write_samples(dataset, min(args.num, len(dataset)), args.output)
        print(f"{os.path.join(args.output, LABEL_FILE)}: {written} samples of {dataset.describe()}, "
              f"{len(dataset.fonts.fonts)} fonts; {skipped} skipped (the renderer failed)")

    return run_tool(action, (OSError,))


if __name__ == "__main__":
    sys.exit(main())
