"""Recognise an image or a folder of images:
`python tools/infer_rec.py -c CFG -o Global.pretrained_model=PREFIX Global.infer_img=PATH`.

Writes `path<TAB>text<TAB>score` lines to `Global.save_res_path`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppcrnn.config import arg_parser, load_config  # noqa: E402
from ppcrnn.errors import ConfigError, DataError  # noqa: E402
from ppcrnn.training.checkpoint import CheckpointError  # noqa: E402
from ppcrnn.training.infer_run import infer_images  # noqa: E402  (also registers every component)


def main(argv=None) -> int:
    args = arg_parser("Recognise word images with a trained CRNN.").parse_args(argv)
    try:
        config = load_config(args.config, args.opt)
        infer_images(config)
    except (ConfigError, DataError, CheckpointError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
