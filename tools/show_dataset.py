"""Draw samples as the model sees them (after all transforms) with their labels:
`python tools/show_dataset.py -c CFG --split Train -n 64 -o grid.png [--opt Global.key=value ...]`.
Look at your data before training on it."""
import argparse
import math
import os
import sys

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppcrnn.config import load_config  # noqa: E402
from ppcrnn.data import build_dataset  # noqa: E402
from ppcrnn.data.transforms import DecodeImage  # noqa: E402
from ppcrnn.errors import ConfigError, DataError  # noqa: E402

SCALE = 2          # tiles are drawn at twice the model's resolution
CAPTION_H = 22
MAX_TILE_W = 800


def to_picture(image: np.ndarray, rgb: bool) -> np.ndarray:
    """float32 [C, H, W] in [-1, 1] -> uint8 [H, W, 3] BGR."""
    picture = np.clip((np.asarray(image) * 0.5 + 0.5) * 255, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    if picture.shape[2] == 1:
        return cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR)
    return picture[:, :, ::-1] if rgb else picture


def caption(sample: dict, charset) -> str:
    if "length" in sample and charset is not None:
        return charset.decode_indices(np.asarray(sample["label"])[: int(sample["length"])])
    return str(sample.get("label", ""))


def draw_grid(samples: list, charset, rgb: bool, columns: int) -> np.ndarray:
    pictures = [to_picture(s["image"], rgb) for s in samples]
    pictures = [cv2.resize(p, (p.shape[1] * SCALE, p.shape[0] * SCALE), interpolation=cv2.INTER_NEAREST)
                for p in pictures]
    tile_w = min(MAX_TILE_W, max(p.shape[1] for p in pictures)) + 8
    tile_h = max(p.shape[0] for p in pictures) + CAPTION_H + 8
    rows = math.ceil(len(pictures) / columns)
    canvas = Image.new("RGB", (columns * tile_w, rows * tile_h), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=16)
    for i, (picture, sample) in enumerate(zip(pictures, samples)):
        x, y = (i % columns) * tile_w + 4, (i // columns) * tile_h + 4
        canvas.paste(Image.fromarray(picture[:, :MAX_TILE_W, ::-1]), (x, y))
        draw.text((x, y + picture.shape[0] + 2), caption(sample, charset), fill=(200, 0, 0), font=font)
    return cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True, help="YAML config (PaddleOCR schema)")
    parser.add_argument("--split", default="Train", choices=["Train", "Eval"])
    parser.add_argument("-n", "--num", type=int, default=64, help="number of samples")
    parser.add_argument("-o", "--output", default="dataset_grid.png", help="PNG to write")
    parser.add_argument("--columns", type=int, default=4)
    parser.add_argument("--random", action="store_true", help="random samples instead of the first n")
    parser.add_argument("--opt", nargs="+", default=[], metavar="KEY=VALUE", help="config overrides")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, args.opt)
        dataset = build_dataset(config, args.split)
    except (ConfigError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    count = min(args.num, len(dataset))
    indices = (np.random.RandomState(config["Global"].get("seed", 1024)).choice(len(dataset), count, replace=False)
               if args.random else range(count))
    samples = []
    for index in indices:
        sample = dataset[int(index)]
        samples.append(dict(zip(dataset.keep_keys, sample)) if dataset.keep_keys else sample)
    rgb = any(isinstance(op, DecodeImage) and op.img_mode == "RGB" for op in dataset.ops)
    grid = draw_grid(samples, dataset.rules.charset, rgb, max(1, args.columns))
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    if not cv2.imwrite(args.output, grid):
        print(f"error: cannot write {args.output}", file=sys.stderr)
        return 1
    print(dataset.scan_report())
    skipped = dataset.skip_report()
    if skipped:
        print(skipped)
    print(f"{args.output}: {count} samples of {args.split}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
