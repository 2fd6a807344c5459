"""Convert an exported inference folder to ONNX (paddle2onnx, no run-time package installs).

    python tools/export_onnx.py --model_dir output/rec/inference [--opset_version 14]

Writes MODEL_DIR/inference.onnx; the folder's inference.yml serves ONNX Runtime too
(`Recognizer(model_dir, engine="onnxruntime")`, PaddleX `engine="onnxruntime"`)."""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppcrnn.inference.onnx import MIN_OPSET, export_onnx  # noqa: E402
from ppcrnn.utils.cli import run_tool  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model_dir", required=True, help="folder with inference.json/.pdmodel + .pdiparams")
    parser.add_argument("--save_file", help="default: MODEL_DIR/inference.onnx")
    parser.add_argument("--opset_version", type=int, default=MIN_OPSET)
    args = parser.parse_args(argv)
    return run_tool(lambda: export_onnx(args.model_dir, args.save_file, args.opset_version), 
                    (ImportError, ValueError, RuntimeError))


if __name__ == "__main__":
    sys.exit(main())
