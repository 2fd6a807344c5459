"""Evaluate a trained recognizer: `python tools/eval.py -c CFG -o Global.checkpoints=PREFIX`.

Prints acc, norm_edit_dis and img/s for every Eval set: one row per entry of
`Eval.dataset.label_file_list`, or instead one per `--data_dirs` folder (a benchmark layout:
`DIR/labels.txt` with paths relative to DIR, read with the Eval transforms), and their mean. `--protocol benchmark` scores the
usual way of papers: prediction and label lower-cased, only [0-9a-z] kept."""
import argparse
import copy
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppcrnn.config import arg_parser, load_config  # noqa: E402
from ppcrnn.errors import ConfigError  # noqa: E402
from ppcrnn.training.evaluation_run import run_evaluation  # noqa: E402  (also registers every component)
from ppcrnn.utils.cli import run_tool  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = arg_parser("Evaluate a CRNN text recognizer on one or more Eval sets.")
    parser.add_argument("--protocol", choices=["paddleocr", "benchmark"], default="paddleocr",
                        help="paddleocr: the config's Metric as is; benchmark: lower-case, keep [0-9a-z]")
    parser.add_argument("--data_dirs", nargs="+", default=[], metavar="DIR",
                        help="evaluate these sets instead of Eval.dataset: each DIR/labels.txt with "
                             "image paths relative to DIR")
    return parser.parse_args(argv)


def eval_sets(config: dict, data_dirs) -> list:
    """(name, config whose Eval holds only that set) for every set to score."""
    if data_dirs:
        return [_folder_set(config, folder) for folder in data_dirs]
    if not config.get("Eval"):
        raise ConfigError("Eval: missing, and no --data_dirs given: nothing to evaluate")
    dataset = config["Eval"]["dataset"]
    label_files = dataset.get("label_file_list")
    if isinstance(label_files, list) and len(label_files) > 1:
        sets = []
        for label_file in label_files:
            single = copy.deepcopy(config)
            single["Eval"]["dataset"]["label_file_list"] = [label_file]
            sets.append((os.path.relpath(label_file, dataset.get("data_dir", ".")), single))
        return sets
    name = dataset.get("name", "Eval")
    if isinstance(label_files, (list, str)) and label_files:
        name = os.path.basename(label_files[0] if isinstance(label_files, list) else label_files)
    return [(name, config)]


def _folder_set(config: dict, folder: str) -> tuple:
    """A benchmark folder as an Eval set: SimpleDataSet over DIR/labels.txt, the Eval transforms."""
    if not os.path.isfile(os.path.join(folder, "labels.txt")):
        raise ConfigError(f"--data_dirs: {folder} has no labels.txt")
    if not config.get("Eval"):
        raise ConfigError("Eval: missing; --data_dirs reuses its transforms and loader settings")
    single = copy.deepcopy(config)
    transforms = single["Eval"]["dataset"]["transforms"]
    single["Eval"]["dataset"] = {"name": "SimpleDataSet", "data_dir": folder,
                                 "label_file_list": [os.path.join(folder, "labels.txt")],
                                 "transforms": transforms}
    return os.path.basename(os.path.normpath(folder)), single


def main(argv=None) -> int:
    args = parse_args(argv)

    def action():
        config = load_config(args.config, args.opt)
        run_evaluation(config, eval_sets(config, args.data_dirs), args.protocol)

    return run_tool(action)


if __name__ == "__main__":
    sys.exit(main())
