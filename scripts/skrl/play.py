"""Evaluate an skrl run headless: metrics JSON, velocity plot, video, exported policy.

    python scripts/skrl/play.py --task Flat-G1 [--load_run -1 --checkpoint -1] \
        [--num_envs 4 --num_episodes 8] [env.viewer.width=640 ...]

As scripts/st_rl/play.py, for runs of scripts/skrl/train.py: writes
<run>/play/model_<i>/{metrics.json,velocity.png,video.mp4} and <run>/exported/. Defaults
in conf/play.yaml; see docs/skrl.md.
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

CONF = Path(__file__).resolve().parent / "conf" / "play.yaml"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
    description=__doc__,
    formatter_class=argparse.RawDescriptionHelpFormatter,
    argument_default=argparse.SUPPRESS,
  )
  add_run_flags(parser)
  add = parser.add_argument
  add("--algorithm", help="PPO or AMP: the run's skrl agent (checked against its params)")
  add("--num_episodes", type=int, help="completed episodes to evaluate")
  add("--episode_length_s", type=float, help="evaluation episode cap in seconds")
  add("--video", action=argparse.BooleanOptionalAction, help="write video.mp4 (env 0)")
  add("--video_length", type=int, help="frames in the video")
  add("--plot_steps", type=int, help="steps of env 0 in the velocity plot")
  add("--style_speed", type=float, help="m/s of the style report's MuJoCo walk (tasks with motions)")
  add("--style_duration_s", type=float, help="seconds of that walk")
  return parser.parse_intermixed_args(argv)


def main() -> None:
  args = parse_args()
  configure_headless_gl()  # before anything imports mjlab
  from legged_robots.evaluation.skrl_play import SkrlPlayOptions, run_skrl_play

  run_skrl_play(build_options(SkrlPlayOptions, load_defaults(CONF, SkrlPlayOptions), args))


if __name__ == "__main__":
  run_main(main)
