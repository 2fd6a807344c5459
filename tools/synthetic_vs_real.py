"""A picture of synthetic training words beside real word crops, to judge the renderer by eye:

    python tools/synthetic_vs_real.py -c configs/rec_en.yml \
        --real ../shared/data/benchmarks/iiit5k_test_3000/labels.txt -o output/synthetic_vs_real.png

Left: the first `-n` samples of the config's Train SyntheticDataSet (the first one inside a
MixedDataSet), as rendered (before resizing); right: `-n` crops of a PaddleOCR label file, evenly
spread over it (without `--real`, the synthetic side alone: docs/synthetic_en.png). Both at the same
height, labels underneath. Writes a PNG (keep pictures holding benchmark crops out of the repository)."""
import argparse
import os
import sys

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppcrnn.config import load_config  # noqa: E402
from ppcrnn.data import build_synthetic_dataset  # noqa: E402
from ppcrnn.data.label_file import read_pairs  # noqa: E402
from ppcrnn.inference.preprocess import read_image  # noqa: E402
from ppcrnn.utils.cli import run_tool  # noqa: E402

HEIGHT = 40       # every crop drawn at this height
CELL_W = 200      # and cut to this width
CAPTION = 16


def synthetic_samples(config_path: str, count: int) -> list:
    synthetic = build_synthetic_dataset(load_config(config_path), "Train")
    return [(s["image"], s["label"]) for s in map(synthetic.render, range(count))]


def real_samples(label_file: str, count: int) -> list:
    pairs = list(read_pairs(label_file))
    root = os.path.dirname(os.path.abspath(label_file))
    step = max(1, len(pairs) // count)
    return [(read_image(os.path.join(root, path), "BGR"), label) for path, label in pairs[::step][:count]]


def panel(samples: list, title: str, columns: int) -> Image.Image:
    rows = -(-len(samples) // columns)
    sheet = Image.new("RGB", (columns * (CELL_W + 6), rows * (HEIGHT + CAPTION + 6) + 24), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=14)
    draw.text((4, 4), title, fill=(0, 0, 0), font=ImageFont.load_default(size=18))
    for i, (image, label) in enumerate(samples):
        width = max(1, round(image.shape[1] * HEIGHT / image.shape[0]))
        tile = cv2.resize(image, (width, HEIGHT), interpolation=cv2.INTER_AREA)[:, :CELL_W]
        x, y = (i % columns) * (CELL_W + 6) + 3, (i // columns) * (HEIGHT + CAPTION + 6) + 27
        sheet.paste(Image.fromarray(np.ascontiguousarray(tile[:, :, ::-1])), (x, y))
        draw.text((x, y + HEIGHT + 1), label, fill=(180, 0, 0), font=font)
    return sheet


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True, help="config whose Train set holds a SyntheticDataSet")
    parser.add_argument("--real", help="PaddleOCR label file of real crops (default: synthetic only)")
    parser.add_argument("-n", "--num", type=int, default=40, help="crops per side")
    parser.add_argument("--columns", type=int, default=4, help="columns per side")
    parser.add_argument("-o", "--output", default="output/synthetic_vs_real.png")

    def action():
        left = panel(synthetic_samples(args.config, args.num), f"synthetic ({os.path.basename(args.config)})",
                     args.columns)
        sheet = left
        if args.real:
            right = panel(real_samples(args.real, args.num), f"real ({os.path.relpath(args.real)})", args.columns)
            sheet = Image.new("RGB", (left.width + right.width + 20, max(left.height, right.height)), (230, 230, 230))
            sheet.paste(left, (0, 0))
            sheet.paste(right, (left.width + 20, 0))
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        sheet.save(args.output)
        print(f"wrote {args.output}")

    args = parser.parse_args(argv)
    return run_tool(action, (OSError,))


if __name__ == "__main__":
    sys.exit(main())
