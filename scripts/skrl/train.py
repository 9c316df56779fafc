"""Train a policy with skrl (PPO or AMP), logging and exporting as scripts/st_rl/train.py.

    python scripts/skrl/train.py --task Flat-G1 [--num_envs 4096] [--max_iterations 1500] \
        [--algorithm PPO|AMP] [--agent skrl_ppo_lstm | --agent_cfg my_skrl_ppo.yaml] \
        [env.rewards.alive.weight=2.0 agent.agent.learning_rate=3e-4 ...]

The agent is the task's skrl YAML (tasks/config/<robot>/agents/skrl_{ppo,amp}_cfg.yaml);
`agent.<section>.<key>=value` overrides any of its keys. Runs go to
logs/skrl/<experiment>/<time>[_<run>]/ (model_<iter>.pt, params/, exported/, TensorBoard).
Defaults of the flags live in conf/train.yaml; see docs/skrl.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from legged_robots.rl.cli import (
  add_run_flags,
  build_options,
  configure_headless_gl,
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
  add("--logger", help="metrics backend (tensorboard)")
  add("--video", action="store_true", help="record env 0 every video_interval steps")
  add("--video_length", type=int, help="frames per training video")
  add("--video_interval", type=int, help="env steps between training videos")
  add("--algorithm", help="PPO or AMP (skrl's agent)")
  add("--agent", help="named skrl agent of the task, e.g. skrl_ppo_lstm (default skrl_<algorithm>)")
  add("--agent_cfg", help="an skrl agent YAML to use instead of the task's")
  return parser.parse_intermixed_args(argv)


def main() -> None:
  args = parse_args()
  configure_headless_gl()  # before anything imports mjlab
  from legged_robots.rl.skrl.train import SkrlTrainOptions, run_skrl_train

  run_skrl_train(build_options(SkrlTrainOptions, load_defaults(CONF, SkrlTrainOptions), args))


if __name__ == "__main__":
  run_main(main)
