"""Recognise word images with an exported model: `path<TAB>text<TAB>score` per image.

    python tools/predict_rec.py --model en_mv3_crnn word.png          # the shipped English model
    python tools/predict_rec.py --model en_mv3_crnn --word_prior word.png   # ... with its word prior
    python tools/predict_rec.py --model_dir out/inference word.png crops/
    python tools/predict_rec.py --model_dir out/inference --labels bench/labels.txt --vis grid.png

Inputs are image files and folders (their images, sorted). `--labels` reads a PaddleOCR label
file (`relative/path<TAB>label`, paths relative to the file's folder); without other inputs its
images are recognised, and accuracy is reported. `--vis` draws the crops with the predicted text
and confidence (wrong ones in red, with the label). Unreadable images are skipped and counted."""
from __future__ import annotations

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppcrnn.data.label_file import read_pairs  # noqa: E402
from ppcrnn.inference import Recognizer  # noqa: E402
from ppcrnn.inference.preprocess import read_image  # noqa: E402
from ppcrnn.inference.visualize import draw_grid  # noqa: E402
from ppcrnn.model_zoo import pretrained_dir, pretrained_names, word_prior  # noqa: E402
from ppcrnn.utils.cli import add_decoding_arguments, decoding_options, run_tool  # noqa: E402
from ppcrnn.utils.logging import get_logger  # noqa: E402

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def str2bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="*", help="image files and/or folders")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model_dir", help="exported model folder (inference.yml inside)")
    which.add_argument("--model", choices=pretrained_names(), help="a model shipped with ppcrnn")
    parser.add_argument("--labels", help="PaddleOCR label file: relative/path<TAB>label per line")
    parser.add_argument("--engine", default="paddle", choices=("paddle", "onnxruntime"))
    parser.add_argument("--batch_size", type=int, default=6)
    parser.add_argument("--cpu_threads", type=int, default=4)
    parser.add_argument("--enable_mkldnn", type=str2bool, default=True)
    parser.add_argument("--use_gpu", type=str2bool, default=None, help="default: a GPU if Paddle sees one")
    parser.add_argument("--word_prior", action="store_true",
                        help="with --model: decode with the model's word prior (its model card's row)")
    parser.add_argument("--benchmark_protocol", action="store_true",
                        help="compare lower-cased [0-9a-z] only (the usual benchmark protocol)")
    parser.add_argument("--save_res_path", help="also write the results to this file")
    parser.add_argument("--vis", help="write a picture of the crops with their predictions (PNG/JPG)")
    parser.add_argument("--vis_max", type=int, default=64, help="at most this many crops in --vis")
    parser.add_argument("--vis_columns", type=int, default=4)
    parser.add_argument("--vis_font", help="TTF font for --vis (default: Pillow's built-in font)")
    add_decoding_arguments(parser)
    args = parser.parse_args(argv)
    if not args.inputs and not args.labels:
        parser.error("give image files/folders or --labels")
    if args.word_prior and (not args.model or args.decode != "greedy"):
        parser.error("--word_prior needs --model and sets the decoding itself (no --decode)")
    return args


def read_labels(path: str) -> dict:
    """Absolute image path -> label, from a PaddleOCR label file (paths relative to its folder)."""
    labels, root = {}, os.path.dirname(os.path.abspath(path))
    for image, label in read_pairs(path):
        labels[os.path.normpath(os.path.join(root, image))] = label
    return labels


def expand_inputs(inputs: list) -> list:
    paths = []
    for item in inputs:
        if os.path.isdir(item):
            paths += sorted(os.path.join(item, name) for name in os.listdir(item)
                            if name.lower().endswith(IMAGE_EXTENSIONS))
        else:
            paths.append(item)
    return [os.path.normpath(os.path.abspath(path)) for path in paths]


def normalise(text: str, benchmark_protocol: bool) -> str:
    text = text.replace(" ", "")  # RecMetric ignores spaces
    return re.sub(r"[^0-9a-z]", "", text.lower()) if benchmark_protocol else text


def run(args: argparse.Namespace) -> None:
    logger = get_logger()
    labels = read_labels(args.labels) if args.labels else {}
    paths = expand_inputs(args.inputs) if args.inputs else list(labels)  # label-file order
    model_dir = args.model_dir or os.path.join(pretrained_dir(args.model), "inference")
    decoding = word_prior(args.model) if args.word_prior else decoding_options(args)
    recognizer = Recognizer(model_dir, engine=args.engine, batch_size=args.batch_size,
                            cpu_threads=args.cpu_threads, enable_mkldnn=args.enable_mkldnn,
                            use_gpu=args.use_gpu, **decoding)
    kept, crops = [], []
    for path in paths:
        try:
            crops.append(read_image(path, "BGR"))
            kept.append(path)
        except (OSError, ValueError) as exc:
            logger.warning(f"skipped: {exc}")
    if len(kept) < len(paths):
        logger.warning(f"skipped {len(paths) - len(kept)} of {len(paths)} images (unreadable or missing)")
    results = recognizer(crops) if crops else []
    lines = [f"{path}\t{text}\t{score:.6f}" for path, (text, score) in zip(kept, results)]
    print("\n".join(lines))
    if args.save_res_path:
        os.makedirs(os.path.dirname(os.path.abspath(args.save_res_path)), exist_ok=True)
        with open(args.save_res_path, "w", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))
    truth = [labels.get(path) for path in kept]
    protocol = args.benchmark_protocol
    correct = [None if label is None else normalise(text, protocol) == normalise(label, protocol)
               for (text, _), label in zip(results, truth)]
    judged = [c for c in correct if c is not None]
    if labels:
        logger.info(f"accuracy: {sum(judged)}/{len(judged)} = {sum(judged) / max(len(judged), 1):.4f}"
                    f" ({len(kept) - len(judged)} images without a label)")
    if args.vis and crops:
        # Wrong predictions first, so they are in the picture even when it is capped.
        order = sorted(range(len(crops)), key=lambda i: correct[i] is not False)[:args.vis_max]
        draw_grid([crops[i] for i in order], [results[i] for i in order],
                  labels=[truth[i] for i in order] if labels else None, correct=[correct[i] for i in order],
                  columns=args.vis_columns, font_path=args.vis_font).save(args.vis)
        logger.info(f"wrote {args.vis} ({len(order)} of {len(crops)} crops)")


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_tool(lambda: run(args), (ImportError,))


if __name__ == "__main__":
    sys.exit(main())
