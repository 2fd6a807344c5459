"""Export a trained model for PaddleOCR 3.x / PaddleX, Paddle Inference and paddle2onnx.

    python tools/export_model.py -c CFG -o Global.pretrained_model=output/rec/best_accuracy \
        Global.save_inference_dir=output/rec/inference

Writes inference.json (or inference.pdmodel with Global.export_with_pir=false), inference.pdiparams
and inference.yml. Refuses weights that do not fit the config (dictionary, hidden size, backbone)."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import ppcrnn  # noqa: E402,F401  (registers the components the config validator checks)
from ppcrnn.config import arg_parser, load_config  # noqa: E402
from ppcrnn.inference import export_model  # noqa: E402
from ppcrnn.utils.cli import run_tool  # noqa: E402


def main(argv=None) -> int:
    args = arg_parser(__doc__.split("\n")[0]).parse_args(argv)
    return run_tool(lambda: export_model(load_config(args.config, args.opt)))


if __name__ == "__main__":
    sys.exit(main())
