"""Average checkpoints of one run into one weight file (SWA-style):

    python tools/average_weights.py -c output/rec/config.yml \
        --weights output/rec/iter_epoch_10 output/rec/iter_epoch_11 output/rec/iter_epoch_12 \
        --output output/rec/averaged

writes `output/rec/averaged.pdparams` (PaddleOCR's format: evaluate, export or fine-tune it like
any checkpoint, e.g. `tools/eval.py -c CFG -o Global.checkpoints=output/rec/averaged`). The
BatchNorm statistics of the mean weights are measured again on `--bn_batches` batches of the
config's Train data (0 keeps the mean of the files' statistics)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppcrnn.config import arg_parser, load_config  # noqa: E402
from ppcrnn.data import build_dataloader, set_epoch  # noqa: E402
from ppcrnn.errors import ConfigError  # noqa: E402
from ppcrnn.training.components import build_post_process, build_recognizer  # noqa: E402
from ppcrnn.training.environment import set_seed, setup_environment  # noqa: E402
from ppcrnn.training.weight_averaging import average_weight_files, recalibrate_batch_norm  # noqa: E402
from ppcrnn.utils.cli import run_tool  # noqa: E402
from ppcrnn.utils.logging import get_logger  # noqa: E402
from ppcrnn.weights import load_state, save_weights  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = arg_parser("Average several checkpoints of one run into one .pdparams file.")
    parser.add_argument("--weights", nargs="+", required=True, metavar="PREFIX",
                        help="checkpoints to average (prefixes or .pdparams files)")
    parser.add_argument("--output", required=True, metavar="PREFIX", help="writes PREFIX.pdparams")
    parser.add_argument("--bn_batches", type=int, default=100,
                        help="Train batches that re-measure the BatchNorm statistics (0: keep their mean)")
    return parser.parse_args(argv)


def average(config: dict, weights, output: str, bn_batches: int) -> str:
    """Average `weights`, re-measure BatchNorm on the Train data, save `output`.pdparams; returns its path."""
    if bn_batches < 0:
        raise ConfigError(f"--bn_batches: expected a number of batches >= 0, got {bn_batches}")
    logger = get_logger()
    setup_environment(config["Global"], logger, for_training=False)
    model = build_recognizer(config, len(build_post_process(config).character))
    report = load_state(model, average_weight_files(weights), "the averaged --weights", "averaged", logger)
    problems = [f"{key!r} is missing" for key in report.missing] + [
        f"{key!r} has shape {file_shape}, the model's {model_shape}"
        for key, model_shape, file_shape in report.shape_mismatched]
    if problems:
        raise ConfigError(f"the averaged --weights do not fit the config's Architecture: {len(problems)} "
                          f"key(s), first {problems[0]}")
    logger.info(f"averaged {len(weights)} weight file(s): {', '.join(weights)}")
    if bn_batches:
        set_seed(config["Global"].get("seed") or 0)  # the same batches, hence the same statistics, every run
        loader = build_dataloader(config, "Train", seed=config["Global"].get("seed"))
        set_epoch(loader, 1)
        used = recalibrate_batch_norm(model, loader, bn_batches)
        logger.info(f"BatchNorm statistics re-measured on {used} Train batch(es)")
    path = save_weights(model, output)
    logger.info(f"saved {path}")
    return path


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_tool(lambda: average(load_config(args.config, args.opt), args.weights, args.output,
                                    args.bn_batches))


if __name__ == "__main__":
    sys.exit(main())
