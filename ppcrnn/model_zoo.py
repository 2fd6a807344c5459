"""Recognizers shipped inside the package, loaded by name: `pretrained("en_mv3_crnn")`.

Each lives in `ppcrnn/models/<name>/`: `best_accuracy.pdparams` (training weights, PaddleOCR's
state_dict layout: fine-tune from them with `Global.pretrained_model: <name>`), `config.yml` (the
config that trained them), `inference/` (the export: inference.json, inference.pdiparams,
inference.yml, loadable by PaddleOCR / PaddleX as is) and `MODEL_CARD.md` (data, schedule,
accuracy)."""
from __future__ import annotations

import os
from typing import Dict, List

MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
SHIPPED: Dict[str, str] = {
    "en_mv3_crnn": "English words, 0-9a-z (read case-insensitively); MobileNetV3 small x0.5 + BiLSTM + CTC",
}
WEIGHTS = "best_accuracy.pdparams"
EXPORT_FILES = ("inference.json", "inference.pdiparams", "inference.yml")


def pretrained_names() -> List[str]:
    return sorted(SHIPPED)


def pretrained_dir(name: str) -> str:
    """The folder of the shipped model `name`; ValueError listing the known names otherwise."""
    if name not in SHIPPED:
        raise ValueError(f"unknown pretrained model {name!r}; shipped: {', '.join(pretrained_names())}")
    folder = os.path.join(MODELS_DIR, name)
    needed = [WEIGHTS, "config.yml"] + [os.path.join("inference", f) for f in EXPORT_FILES]
    missing = [f for f in needed if not os.path.isfile(os.path.join(folder, f))]
    if missing:
        raise FileNotFoundError(f"pretrained model {name!r}: {', '.join(missing)} missing from {folder} "
                                f"(an incomplete install of ppcrnn?)")
    return folder


def pretrained_weights(name: str) -> str:
    """The `.pdparams` of the shipped model `name` (for Global.pretrained_model / checkpoints)."""
    return os.path.join(pretrained_dir(name), WEIGHTS)


def pretrained(name: str = "en_mv3_crnn", **options):
    """A ready `Recognizer` over the shipped export of `name`; `options` go to Recognizer
    (engine, batch_size, cpu_threads, mode, lexicon_path, ...)."""
    from .inference import Recognizer
    return Recognizer(os.path.join(pretrained_dir(name), "inference"), **options)
