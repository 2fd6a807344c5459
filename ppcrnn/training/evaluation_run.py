"""The evaluation program behind `tools/eval.py`: load weights once, score several Eval sets, print
one table row per set (and their unweighted mean, the convention of PaddleOCR's tables)."""
from __future__ import annotations

import copy
from typing import List, Tuple

from ..data import build_dataloader
from ..registry import METRICS, POSTPROCESSES
from ..utils.logging import get_logger
from .components import build_post_process, build_recognizer, load_weights
from .environment import setup_environment
from .evaluator import evaluate

COLUMNS = ("set", "words", "skipped", "acc", "norm_edit_dis", "img/s")


def _benchmark_view(config: dict) -> dict:
    """Labels encoded with the default 0-9a-z set (lower-cased, everything else dropped)."""
    config = copy.deepcopy(config)
    config["Global"]["character_dict_path"] = None
    config["Global"]["use_space_char"] = False
    return config


def format_table(rows: List[dict]) -> str:
    lines = [" | ".join(f"{c:>13}" if i else f"{c:<22}" for i, c in enumerate(COLUMNS))]
    for row in rows:
        cells = [f"{row['set']:<22}", f"{row['words']:>13}", f"{row['skipped']:>13}", f"{row['acc']:>13.4f}",
                 f"{row['norm_edit_dis']:>13.4f}", f"{row['fps']:>13.1f}"]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def run_evaluation(config: dict, sets: List[Tuple[str, dict]], protocol: str = "paddleocr") -> List[dict]:
    """Evaluate the weights named by `Global.checkpoints` / `pretrained_model` on each (name,
    config) set; returns the table rows ({set, words, skipped, acc, norm_edit_dis, fps})."""
    logger = get_logger()
    setup_environment(config["Global"], logger, for_training=False)
    post_process = build_post_process(config)
    model = build_recognizer(config, len(post_process.character))
    load_weights(config, model, post_process.character, logger)
    metric_config = dict(config["Metric"])
    label_decoder = None
    if protocol == "benchmark":
        metric_config["is_filter"] = True
        label_decoder = POSTPROCESSES.build({"name": "CTCLabelDecode"}, "PostProcess").decode_labels
    metric = METRICS.build(metric_config, "Metric")
    rows = []
    for name, set_config in sets:
        if protocol == "benchmark":
            set_config = _benchmark_view(set_config)
        loader = build_dataloader(set_config, "Eval")
        result = evaluate(model, loader, post_process, metric, label_decoder=label_decoder, description=name)
        skipped = sum(getattr(loader.dataset, "scan_counts", {}).values())
        report = getattr(loader.dataset, "skip_report", None)
        skip_text = report() if callable(report) else ""
        if skip_text:
            logger.warning(f"{name}: {skip_text}")
        rows.append({"set": name, "words": result["samples"], "skipped": skipped, "acc": result["acc"],
                     "norm_edit_dis": result["norm_edit_dis"], "fps": result["fps"]})
        logger.info(f"{name}: acc {result['acc']:.4f}, norm_edit_dis {result['norm_edit_dis']:.4f}, "
                    f"{result['fps']:.1f} img/s over {result['samples']} words")
    if len(rows) > 1:
        rows.append({"set": "mean", "words": sum(r["words"] for r in rows),
                     "skipped": sum(r["skipped"] for r in rows),
                     **{k: sum(r[k] for r in rows) / len(rows) for k in ("acc", "norm_edit_dis", "fps")}})
    logger.info(f"evaluation ({protocol} protocol):\n{format_table(rows)}")
    return rows
