r"""Train a policy with st_rl PPO.

    python scripts/st_rl/train.py --task Flat-G1 [--num_envs 4096] [--max_iterations 1500] \
        [env.rewards.alive.weight=2.0 agent.algorithm.learning_rate=3e-4 ~env.rewards.feet_slide ...]
    python scripts/st_rl/train.py --task Flat-G1 --multirun agent.algorithm.learning_rate=1e-4,3e-4
    python scripts/st_rl/train.py --task Flat-G1 agent=st_rl_ppo_lstm --cfg job

Overrides are hydra's (legged_robots.rl.hydra_main): --multirun trains once per combination,
agent=<name> picks a named agent of the task, --cfg job prints the resolved config. Defaults
of the flags live in conf/train.yaml. Without CUDA and without --num_envs / --max_iterations,
a small CPU budget from that file is used (and printed).
"""

from __future__ import annotations

import argparse
import sys
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
from legged_robots.rl.hydra_main import split_args

CONF = Path(__file__).resolve().parent / "conf" / "train.yaml"


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
  """(our flags, hydra's arguments)."""
  parser = script_parser(__doc__, add_train_flags, "st_rl")
  add = parser.add_argument
  add("--logger", choices=["tensorboard", "wandb"], help="metrics backend")
  return split_args(parser, argv)


def main(argv: list[str] | None = None) -> None:
  args, hydra_args = parse_args(argv)
  configure_headless_gl()  # before anything imports mjlab
  configure_output(getattr(args, "verbose", False))
  from legged_robots.rl.train import TrainOptions, train_with_hydra

  train_with_hydra(
    sys.argv[0], build_options(TrainOptions, load_defaults(CONF, TrainOptions), args), hydra_args
  )


if __name__ == "__main__":
  run_main(main)
