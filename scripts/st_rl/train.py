"""Train a policy with st_rl PPO.

    python scripts/st_rl/train.py --task Flat-G1 [--num_envs 4096] [--max_iterations 1500] \
        [env.rewards.alive.weight=2.0 agent.algorithm.learning_rate=3e-4 ...]

Defaults of the flags live in conf/train.yaml. Without CUDA and without --num_envs /
--max_iterations, a small CPU budget from that file is used (and printed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from legged_robots.rl.cli import (
  add_train_flags,
  build_options,
  configure_headless_gl,
  configure_output,
  load_defaults,
  run_main,
  script_parser,
)

CONF = Path(__file__).resolve().parent / "conf" / "train.yaml"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = script_parser(__doc__, add_train_flags)
  add = parser.add_argument
  add("--logger", choices=["tensorboard", "wandb"], help="metrics backend")
  add(
    "--distributed",
    action="store_true",
    help="one process per GPU under torchrun (./run.sh -g N); --num_envs is then per process",
  )
  return parser.parse_intermixed_args(argv)


def main(argv: list[str] | None = None) -> None:
  args = parse_args(argv)
  configure_headless_gl()  # before anything imports mjlab
  configure_output(getattr(args, "verbose", False))
  from legged_robots.rl.train import TrainOptions, run_train

  run_train(build_options(TrainOptions, load_defaults(CONF, TrainOptions), args))


if __name__ == "__main__":
  run_main(main)
