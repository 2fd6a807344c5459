"""Recognise an image or a folder of images:
`python tools/infer_rec.py -c CFG -o Global.pretrained_model=PREFIX Global.infer_img=PATH`.

Writes `path<TAB>text<TAB>score` lines to `Global.save_res_path`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppcrnn.config import arg_parser, load_config  # noqa: E402
from ppcrnn.training.infer_run import infer_images  # noqa: E402  (also registers every component)
from ppcrnn.utils.cli import run_tool  # noqa: E402


def main(argv=None) -> int:
    args = arg_parser("Recognise word images with a trained CRNN.").parse_args(argv)
    return run_tool(lambda: infer_images(load_config(args.config, args.opt)))


if __name__ == "__main__":
    sys.exit(main())
