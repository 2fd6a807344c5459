"""Train a CRNN recognizer: `python tools/train.py -c configs/rec.yml [-o Global.key=value ...]`.

Data parallel (one process per device; batch_size_per_card is per process, metrics are averaged over
processes, only rank 0 evaluates and writes checkpoints and train.log):
  GPUs:       python -m paddle.distributed.launch --gpus 0,1,2,3 tools/train.py -c CFG
  CPU:        python -m paddle.distributed.launch --nproc_per_node 2 tools/train.py -c CFG   (gloo),
              or Global.cpu_processes: 2 in the config (this script then launches itself)
  multi-node: python -m paddle.distributed.launch --master IP0:PORT --nnodes 2 --gpus 0,1,2,3 \
                  tools/train.py -c CFG      (the same command on every node)"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppcrnn.config import arg_parser, load_config  # noqa: E402
from ppcrnn.training.cpu_processes import relaunch  # noqa: E402
from ppcrnn.training.trainer import Trainer  # noqa: E402  (also registers every component)
from ppcrnn.utils.cli import run_tool  # noqa: E402


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = arg_parser("Train a CRNN text recognizer (PaddleOCR config schema).").parse_args(argv)

    def train():
        config = load_config(args.config, args.opt)
        status = relaunch(os.path.abspath(__file__), argv, config["Global"])  # Global.cpu_processes
        return Trainer(config).train() if status is None else status

    return run_tool(train)


if __name__ == "__main__":
    sys.exit(main())
