r"""Evaluate a trained run headless: metrics JSON, velocity plot, video, exported policy.

    python scripts/st_rl/play.py --task Flat-G1 [--load_run -1 --checkpoint -1] \
        [--num_envs 4 --num_episodes 8] [env.viewer.width=640 ~env.events.push_robot ...]

Runs the task's play variant; writes <run>/play/model_<i>/{metrics.json,velocity.png,
video.mp4} and <run>/exported/{policy.onnx,deploy.yaml}. Defaults in conf/play.yaml.
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
  """(our flags, hydra's arguments: overrides, --cfg job)."""
  return split_args(script_parser(__doc__, add_play_flags, "st_rl"), argv)


def main(argv: list[str] | None = None) -> None:
  args, hydra_args = parse_args(argv)
  configure_headless_gl()  # before anything imports mjlab
  configure_output(getattr(args, "verbose", False))
  from legged_robots.evaluation.play import PlayOptions, play_with_hydra

  play_with_hydra(sys.argv[0], build_options(PlayOptions, load_defaults(CONF, PlayOptions), args), hydra_args)


if __name__ == "__main__":
  run_main(main)
