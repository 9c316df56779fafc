"""Evaluate a trained run headless: metrics JSON, velocity plot, video, exported policy.

    python scripts/st_rl/play.py --task Flat-G1 [--load_run -1 --checkpoint -1] \
        [--num_envs 4 --num_episodes 8] [env.viewer.width=640 ...]

Runs the task's play variant; writes <run>/play/model_<i>/{metrics.json,velocity.png,
video.mp4} and <run>/exported/{policy.onnx,deploy.yaml}. Defaults in conf/play.yaml.
"""

from __future__ import annotations

import argparse
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

CONF = Path(__file__).resolve().parent / "conf" / "play.yaml"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  return script_parser(__doc__, add_play_flags).parse_intermixed_args(argv)


def main(argv: list[str] | None = None) -> None:
  args = parse_args(argv)
  configure_headless_gl()  # before anything imports mjlab
  configure_output(getattr(args, "verbose", False))
  from legged_robots.evaluation.play import PlayOptions, run_play

  run_play(build_options(PlayOptions, load_defaults(CONF, PlayOptions), args))


if __name__ == "__main__":
  run_main(main)
