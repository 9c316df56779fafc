r"""Evaluate an skrl run headless: metrics JSON, velocity plot, video, exported policy.

    python scripts/skrl/play.py --task Flat-G1 [--load_run -1 --checkpoint -1] \
        [--num_envs 4 --num_episodes 8] [env.viewer.width=640 ...]

As scripts/st_rl/play.py, for runs of scripts/skrl/train.py: writes
<run>/play/model_<i>/{metrics.json,velocity.png,video.mp4} and <run>/exported/. Defaults
in conf/play.yaml; see docs/skrl.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from legged_robots.rl.cli import (
  add_play_flags,
  build_options,
  configure_headless_gl,
  configure_output,
  load_defaults,
  run_main,
  script_parser,
)
from legged_robots.rl.hydra_main import split_args

CONF = Path(__file__).resolve().parent / "conf" / "play.yaml"


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
  """(our flags, hydra's arguments)."""
  parser = script_parser(__doc__, add_play_flags, "skrl")
  add = parser.add_argument
  add("--algorithm", help="PPO or AMP: the run's skrl agent (checked against its params)")
  return split_args(parser, argv)


def main() -> None:
  args, hydra_args = parse_args()
  configure_headless_gl()  # before anything imports mjlab
  configure_output(getattr(args, "verbose", False))
  from legged_robots.evaluation.skrl_play import SkrlPlayOptions, skrl_play_with_hydra

  opts = build_options(SkrlPlayOptions, load_defaults(CONF, SkrlPlayOptions), args)
  skrl_play_with_hydra(sys.argv[0], opts, hydra_args)


if __name__ == "__main__":
  run_main(main)
