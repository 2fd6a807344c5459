"""Benchmark accuracy of a recognizer on the real word-crop test sets, with the protocol of papers
and PaddleOCR's tables: prediction and label lower-cased, everything outside [0-9a-z] removed, then
exact match (RecMetric with is_filter; also its normalised edit distance).

Two ways to run the model:

* `--model_dir EXPORT_DIR`: the exported model through `ppcrnn.inference.Recognizer`, i.e. what a
  deployment sees (PaddleX preprocessing: height 32, aspect ratio kept, batches sorted by aspect
  ratio; `--engine`, `--batch_size`, `--enable_mkldnn`, and `--decode beam|lexicon` with its
  options); `--engine paddleocr` runs the same export through PaddleOCR's own
  `paddleocr.TextRecognition` instead (requirements-integration.txt; greedy decoding only);
* `-c CFG -o Global.checkpoints=PREFIX` (or Global.pretrained_model): the dygraph model through
  `tools/eval.py`'s `run_evaluation(protocol="benchmark")`, preprocessed with the config's Eval
  transforms (RecResizeImg squeezes to its width unless `eval_mode: True`), so the two can differ.
  With `eval_mode` the evaluation re-batches each loader batch the predictor's way (sorted by
  width, 6 at a time; ppcrnn.data.width_batches.width_sorted_chunks), since the backward LSTM reads
  any padding; the Recognizer sorts the whole set, so the figures can still differ slightly.

`--data_dirs` defaults to every test set in ../shared/data/benchmarks (a folder with labels.txt
whose name contains "test", plus svt_647 and ic13_857; never a training split). Labels empty after
the normalisation and unreadable images are skipped and counted. Prints a Markdown table per set
(with the unweighted mean of the sets, as PaddleOCR's tables, and the total over all words) and the
one-row table used in README.md.

    python bench/accuracy.py --model_dir output/rec/quickstart/inference
    python bench/accuracy.py -c output/rec/quickstart/config.yml \
        -o Global.checkpoints=output/rec/quickstart/best_accuracy
    python bench/accuracy.py --model_dir ppcrnn/models/en_mv3_crnn/inference --engine paddleocr
    python bench/accuracy.py --model_dir DIR --data_dirs ../shared/data/benchmarks/svt_647 --limit 50
    python bench/accuracy.py --model_dir ppcrnn/models/en_mv3_crnn/inference --decode lexicon \
        --lexicon_path words_en_wordfreq.txt --oov_penalty 6 --frequency_weight 0.5
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import tempfile
from typing import Dict, List

from common import REPO, print_table

from ppcrnn.utils.cli import add_decoding_arguments, decoding_options, run_tool

SHARED = os.environ.get("PPCRNN_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
BENCHMARKS = os.path.join(SHARED, "data", "benchmarks")
# Test sets whose folder name does not say "test"; the usual order of papers comes first.
NAMED_TEST_SETS = ("svt_647", "ic13_857")
PAPER_ORDER = ("iiit5k", "svt", "ic13", "ic15")


def default_data_dirs(root: str = BENCHMARKS) -> List[str]:
    """Every test-set folder under `root` (labels.txt inside; "test" in the name or a named set)."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{root}: benchmark folder not found; pass --data_dirs")
    names = [name for name in os.listdir(root) if os.path.isfile(os.path.join(root, name, "labels.txt"))
             and "train" not in name and ("test" in name or name in NAMED_TEST_SETS)]
    rank = {prefix: i for i, prefix in enumerate(PAPER_ORDER)}
    names.sort(key=lambda name: (rank.get(name.split("_")[0], len(rank)), name))
    return [os.path.join(root, name) for name in names]


def read_set(folder: str, limit: int = 0):
    """[(image path, label)] of `folder/labels.txt` (paths relative to the folder), first `limit`."""
    from ppcrnn.data.label_file import read_pairs
    path = os.path.join(folder, "labels.txt")
    samples = []
    for image, label in read_pairs(path):
        samples.append((os.path.join(folder, image), label))
        if limit and len(samples) == limit:
            break
    return samples


def usable_samples(folder: str, limit: int = 0):
    """([(image path, label)], skipped) of `folder/labels.txt`: labels empty under the protocol and
    unreadable images are skipped, logged and counted, not left to the engine."""
    from ppcrnn.inference.preprocess import read_image
    from ppcrnn.utils.logging import get_logger
    samples, skipped = [], 0
    for path, label in read_set(folder, limit):
        try:
            if not protocol_text(label):
                raise ValueError(f"{path}: label {label!r} is empty under the protocol")
            read_image(path, "BGR")
        except (OSError, ValueError) as exc:
            skipped += 1
            get_logger().warning(f"skipped: {exc}")
            continue
        samples.append((path, label))
    return samples, skipped


def _export_predictor(args: argparse.Namespace):
    """paths -> [(text, score)] with the export in `args.model_dir`, by ppcrnn's Recognizer or
    by PaddleOCR's TextRecognition (`--engine paddleocr`)."""
    if args.engine == "paddleocr":
        import paddleocr
        from ppcrnn.inference.inference_config import InferenceConfig
        model = paddleocr.TextRecognition(model_name=InferenceConfig.load(args.model_dir).model_name,
                                          model_dir=args.model_dir)
        return lambda paths: [(r["rec_text"], float(r["rec_score"]))
                              for r in model.predict(paths, batch_size=args.batch_size)]
    from ppcrnn.inference import Recognizer
    recognizer = Recognizer(args.model_dir, engine=args.engine, batch_size=args.batch_size,
                            cpu_threads=args.cpu_threads, enable_mkldnn=args.enable_mkldnn,
                            **decoding_options(args))
    return recognizer


def evaluate_export(args: argparse.Namespace, folders: List[str]) -> List[dict]:
    """Rows {set, words, skipped, acc, norm_edit_dis} from the export on each folder."""
    from ppcrnn.metrics import RecMetric
    predict = _export_predictor(args)
    metric = RecMetric(is_filter=True)
    rows = []
    for folder in folders:
        samples, skipped = usable_samples(folder, args.limit)
        paths = [path for path, _ in samples]
        labels = [(label, 1.0) for _, label in samples]
        predictions = predict(paths) if paths else []
        metric((predictions, labels))
        result = metric.get_metric()
        rows.append({"set": set_name(folder), "words": len(labels), "skipped": skipped, **result})
    return rows


def evaluate_checkpoint(args: argparse.Namespace, folders: List[str]) -> List[dict]:
    """Rows from run_evaluation (dygraph, the config's Eval transforms) on each folder."""
    from ppcrnn.config import load_config
    from ppcrnn.training.evaluation_run import run_evaluation
    # tools/ holds scripts, not a package; its folder-as-Eval-set helper is what tools/eval.py uses.
    spec = importlib.util.spec_from_file_location("ppcrnn_eval_tool", os.path.join(REPO, "tools", "eval.py"))
    eval_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(eval_tool)
    config = load_config(args.config, args.opt)
    with tempfile.TemporaryDirectory(prefix="ppcrnn-accuracy-") as scratch:
        sets = []
        for folder in folders:
            name, set_config = eval_tool.eval_sets(config, [folder])[0]
            if args.limit:
                subset = os.path.join(scratch, f"{name}.txt")
                with open(subset, "wb") as handle:
                    handle.writelines(_first_label_lines(folder, args.limit))
                set_config["Eval"]["dataset"]["label_file_list"] = [subset]
            sets.append((name, set_config))
        rows = run_evaluation(config, sets, protocol="benchmark")
    return [row for row in rows if row["set"] != "mean"]


def _first_label_lines(folder: str, limit: int):
    """The raw lines of `folder/labels.txt` up to its `limit`-th non-blank one."""
    from ppcrnn.data.label_file import read_lines
    kept = 0
    for raw in read_lines(os.path.join(folder, "labels.txt")):
        if kept == limit:
            break
        kept += bool(raw.strip())
        yield raw


def protocol_text(text: str) -> str:
    """The benchmark protocol's view of a text: lower-cased, only [0-9a-z] kept."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def decoding_name(args: argparse.Namespace) -> str:
    """How the table's model decoded, e.g. "lexicon words_en_wordfreq.txt, max_edit_distance 2,
    oov_penalty 6, frequency_weight 0.5"."""
    if args.decode == "beam":
        return f"beam {args.beam_width}"
    name = f"lexicon {os.path.basename(args.lexicon_path or '')}, max_edit_distance {args.max_edit_distance}"
    name += f", oov_penalty {args.oov_penalty:g}" if args.oov_penalty is not None else ""
    return name + (f", frequency_weight {args.frequency_weight:g}" if args.frequency_weight else "")


def set_name(folder: str) -> str:
    return os.path.basename(os.path.normpath(folder))


def print_tables(rows: List[dict], model: str, how: str) -> None:
    words = sum(row["words"] for row in rows)
    summary = [{"set": "mean of the sets", "words": words, "skipped": sum(r["skipped"] for r in rows),
                "acc": sum(r["acc"] for r in rows) / len(rows),
                "norm_edit_dis": sum(r["norm_edit_dis"] for r in rows) / len(rows)},
               {"set": "all words", "words": words, "skipped": sum(r["skipped"] for r in rows),
                "acc": sum(r["acc"] * r["words"] for r in rows) / max(words, 1),
                "norm_edit_dis": sum(r["norm_edit_dis"] * r["words"] for r in rows) / max(words, 1)}]
    print_table(f"Benchmark accuracy of {model} ({how}; lower-case, [0-9a-z], exact match)",
                ["set", "words", "skipped", "acc %", "norm_edit_dis"],
                [[r["set"], r["words"], r["skipped"], f"{100 * r['acc']:.2f}", f"{r['norm_edit_dis']:.4f}"]
                 for r in rows + (summary if len(rows) > 1 else [])])
    columns: Dict[str, str] = {r["set"]: f"{100 * r['acc']:.2f}" for r in rows}
    if len(rows) > 1:
        columns["mean"] = f"{100 * summary[0]['acc']:.2f}"
    print_table("README row (acc %)", ["model", *columns], [[model, *columns.values()]])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model_dir", help="exported model folder (run with the Recognizer)")
    source.add_argument("-c", "--config", help="training config (dygraph, with -o Global.checkpoints=...)")
    parser.add_argument("-o", "--opt", nargs="+", default=[], metavar="KEY=VALUE", help="config overrides")
    parser.add_argument("--data_dirs", nargs="+", help="benchmark folders (default: every test set in "
                                                       f"{os.path.relpath(BENCHMARKS, REPO)})")
    parser.add_argument("--limit", type=int, default=0, help="only the first N crops of each set (0: all)")
    parser.add_argument("--name", help="model name for the tables (default: the model dir or weights)")
    parser.add_argument("--engine", default="paddle", choices=("paddle", "onnxruntime", "paddleocr"),
                        help="paddle / onnxruntime: ppcrnn's Recognizer; paddleocr: paddleocr.TextRecognition")
    parser.add_argument("--batch_size", type=int, default=6, help="Recognizer batch (PaddleOCR's default 6)")
    parser.add_argument("--cpu_threads", type=int, default=4)
    parser.add_argument("--enable_mkldnn", type=lambda text: text.lower() in ("1", "true", "yes", "on"),
                        default=True)
    add_decoding_arguments(parser, "decoding (Recognizer only; PaddleOCR decodes greedily)")
    args = parser.parse_args(argv)
    if args.decode != "greedy" and not args.model_dir:
        parser.error("--decode needs --model_dir (the dygraph evaluation decodes with the config's PostProcess)")
    if args.decode != "greedy" and args.engine == "paddleocr":
        parser.error("--engine paddleocr decodes greedily; --decode is for the Recognizer engines")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)

    def action():
        folders = args.data_dirs or default_data_dirs()
        if args.model_dir:
            runner = "paddleocr.TextRecognition" if args.engine == "paddleocr" else f"Recognizer, {args.engine}"
            if args.decode != "greedy":
                runner += f", {decoding_name(args)}"
            rows, how = evaluate_export(args, folders), f"{runner}, batch {args.batch_size}"
            model = args.name or args.model_dir
        else:
            rows, how = evaluate_checkpoint(args, folders), "dygraph, the config's Eval transforms"
            model = args.name or next((o.split("=", 1)[1] for o in args.opt if o.startswith(
                ("Global.checkpoints=", "Global.pretrained_model="))), args.config)
        print_tables(rows, model, how)

    return run_tool(action, (ImportError,))


if __name__ == "__main__":
    sys.exit(main())
