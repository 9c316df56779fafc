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
  add_run_flags,
  build_options,
  configure_headless_gl,
  configure_output,
  load_defaults,
  run_main,
)

CONF = Path(__file__).resolve().parent / "conf" / "train.yaml"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
    description=__doc__,
    formatter_class=argparse.RawDescriptionHelpFormatter,
    argument_default=argparse.SUPPRESS,
  )
  add_run_flags(parser)
  add = parser.add_argument
  add("--seed", type=int, help="random seed of env and agent")
  add("--max_iterations", type=int, help="learning iterations to run in this invocation")
  add("--run_name", help="suffix of the timestamped run folder")
  add("--resume", action="store_true", help="continue from --load_run/--checkpoint")
  add("--logger", choices=["tensorboard", "wandb"], help="metrics backend")
  add("--video", action="store_true", help="record env 0 every video_interval steps")
  add("--video_length", type=int, help="frames per training video")
  add("--video_interval", type=int, help="env steps between training videos")
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
