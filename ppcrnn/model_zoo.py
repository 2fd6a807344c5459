"""Recognizers shipped inside the package, loaded by name: `pretrained("en_mv3_crnn")`.

Each lives in `ppcrnn/models/<name>/`: `best_accuracy.pdparams` (training weights, PaddleOCR's
state_dict layout: fine-tune from them with `Global.pretrained_model: <name>`), `config.yml` (the
config that trained them), `inference/` (the export: inference.json, inference.pdiparams,
inference.yml, loadable by PaddleOCR / PaddleX as is) and `MODEL_CARD.md` (data, schedule,
accuracy)."""
from __future__ import annotations

import os
from typing import Any, Dict, List

MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
SHIPPED: Dict[str, str] = {
    "en_mv3_crnn": "English words, 0-9a-z (read case-insensitively); MobileNetV3 small x0.5 + BiLSTM + CTC",
}
# The decoding of each model card's "word prior" row: Recognizer options, chosen on validation crops.
WORD_PRIORS: Dict[str, Dict[str, Any]] = {
    "en_mv3_crnn": {"mode": "lexicon", "lexicon_path": "words_en_wordfreq.txt", "oov_penalty": 6.0,
                    "frequency_weight": 0.5},
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


def word_prior(name: str) -> Dict[str, Any]:
    """The Recognizer decoding options of `name`'s word prior (its model card's figures)."""
    if name not in WORD_PRIORS:
        raise ValueError(f"pretrained model {name!r} has no word prior; models with one: "
                         f"{', '.join(sorted(WORD_PRIORS))}")
    return dict(WORD_PRIORS[name])


def pretrained(name: str = "en_mv3_crnn", use_word_prior: bool = False, **options):
    """A ready `Recognizer` over the shipped export of `name`; `options` go to Recognizer
    (engine, batch_size, cpu_threads, mode, lexicon_path, ...). `use_word_prior=True` decodes
    with the model's word prior (`word_prior(name)`), which `options` may still override."""
    from .inference import Recognizer
    if use_word_prior:
        options = {**word_prior(name), **options}
    return Recognizer(os.path.join(pretrained_dir(name), "inference"), **options)
