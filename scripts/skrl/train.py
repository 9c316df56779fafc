r"""Train a policy with skrl (PPO or AMP), logging and exporting as scripts/st_rl/train.py.

    python scripts/skrl/train.py --task Flat-G1 [--num_envs 4096] [--max_iterations 1500] \
        [--algorithm PPO|AMP] [agent=skrl_ppo_lstm | --agent_cfg my_skrl_ppo.yaml] \
        [env.rewards.alive.weight=2.0 agent.agent.learning_rate=3e-4 ...] [--multirun] [--cfg job]

The agent is the task's skrl YAML (tasks/config/<robot>/agents/skrl_{ppo,amp}_cfg.yaml);
`agent.<section>.<key>=value` overrides any of its keys (hydra's grammar, as st_rl's train.py). Runs go to
logs/skrl/<experiment>/<time>[_<run>]/ (model_<iter>.pt, params/, exported/, TensorBoard).
Defaults of the flags live in conf/train.yaml; see docs/skrl.md.
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
  parser = script_parser(__doc__, add_train_flags, "skrl")
  add = parser.add_argument
  add("--logger", help="metrics backend (tensorboard)")
  add("--algorithm", help="PPO or AMP (skrl's agent)")
  add("--agent", help="named skrl agent of the task, e.g. skrl_ppo_lstm (default skrl_<algorithm>)")
  add("--agent_cfg", help="an skrl agent YAML to use instead of the task's")
  return split_args(parser, argv)


def main(argv: list[str] | None = None) -> None:
  args, hydra_args = parse_args(argv)
  configure_headless_gl()  # before anything imports mjlab
  configure_output(getattr(args, "verbose", False))
  from legged_robots.rl.skrl.train import SkrlTrainOptions, skrl_train_with_hydra

  opts = build_options(SkrlTrainOptions, load_defaults(CONF, SkrlTrainOptions), args)
  skrl_train_with_hydra(sys.argv[0], opts, hydra_args)


if __name__ == "__main__":
  run_main(main)
