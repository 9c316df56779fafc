"""Is the style real? Gait statistics of an exported policy beside reference clips at matched speed.

    python scripts/st_rl/style_report.py policies/flat_g1_h200 --motions walk.csv --fps 120 --speed 0.5
    python scripts/st_rl/style_report.py logs/st_rl/g1_amp/<run> --motions a.npz b.npz --duration 20

RUN_OR_EXPORTED is an exported folder (deploy.yaml + policy.onnx + robot.xml) or a run
folder (its exported/ is used). The policy walks at (--speed, 0, 0) in native MuJoCo; the
clips go through forward kinematics on the exported robot.xml. Writes style_report.json
and style_report.png to --out (default <run>/style_report/<time>/ for a run's export, else
logs/style_report/<policy folder name>/<time>/) and prints a table.
Exit status: 0 done, 1 the policy fell or returned NaN, 2 bad input (nothing written).
See legged_robots.evaluation.style for every formula.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path


class BadInputError(Exception):
  """One-line message naming the problem and the fix; exit 2."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  add = parser.add_argument
  add("run_or_exported", metavar="RUN_OR_EXPORTED", help="exported folder, or a run folder with exported/")
  add("--motions", nargs="+", required=True, metavar="FILE", help="reference clips (.npz, .csv, .pkl)")
  add("--fps", type=float, help="frame rate of the CSV clips (CSVs do not store it)")
  add("--speed", type=float, default=0.5, help="commanded forward speed vx (m/s)")
  add("--duration", type=float, default=10.0, help="seconds of simulated walking (the first 1 s is skipped)")
  add("--seed", type=int, default=0)
  add(
    "--out", help="output folder (default <run>/style_report/<time>/, else logs/style_report/<name>/<time>/)"
  )
  return parser.parse_args(argv)


def exported_folder(path: Path) -> Path:
  for folder in (path, path / "exported"):
    if (folder / "deploy.yaml").is_file():
      return folder
  raise BadInputError(f"{path} holds neither deploy.yaml nor exported/deploy.yaml: pass an export or a run")


def load_clips(paths: list[str], fps: float | None) -> list:
  """MotionClips; a CSV without --fps is an error (it would silently be read as 30 fps)."""
  from refmotion_manager import detect_format, load_motion

  clips = []
  for name in paths:
    path = Path(name)
    if not path.is_file():
      raise BadInputError(f"motion file {path} does not exist")
    is_csv = detect_format(path) == "lafan_csv"
    if is_csv and fps is None:
      raise BadInputError(f"{path} is a CSV, which does not store its frame rate: pass --fps (e.g. 120)")
    clips.append(load_motion(path, fps=fps if is_csv else None))
  return clips


def check_values(args: argparse.Namespace, folder: Path) -> None:
  """Values argparse cannot check, before anything is simulated or written."""
  from legged_robots.deploy.ros2.inputs import VelocityCommand
  from legged_robots.deploy.runtime import load_contract

  if args.fps is not None and not (math.isfinite(args.fps) and args.fps > 0):
    raise BadInputError(f"--fps must be a finite number > 0, got {args.fps}")
  if not math.isfinite(args.duration):
    raise BadInputError(f"--duration must be a finite number of seconds, got {args.duration}")
  if args.seed < 0:
    raise BadInputError(f"--seed must be a non-negative integer, got {args.seed}")
  velocity = VelocityCommand.of(load_contract(folder))
  if velocity is not None and not velocity.low[0] <= args.speed <= velocity.high[0]:  # NaN fails too
    raise BadInputError(
      f"--speed {args.speed} is outside the forward speeds the policy was trained on, "
      f"[{velocity.low[0]:g}, {velocity.high[0]:g}] m/s (deploy.yaml: lin_vel_x): pick one inside"
    )


def run(args: argparse.Namespace) -> int:
  from legged_robots.deploy.runs import tool_output_dir
  from legged_robots.evaluation.style_run import write_style_report

  folder = exported_folder(Path(args.run_or_exported))
  check_values(args, folder)
  clips = load_clips(args.motions, args.fps)
  out = Path(args.out) if args.out else tool_output_dir(folder, "style_report")
  write_style_report(folder, clips, out, args.speed, args.duration, args.seed)
  return 0


def main(argv: list[str] | None = None) -> int:
  args = parse_args(argv)
  from legged_robots.deploy import ContractError, DeployError, NonFiniteActionError
  from legged_robots.evaluation.style_rollout import PolicyFellError
  from refmotion_manager import MotionFormatError

  try:
    return run(args)
  except (PolicyFellError, NonFiniteActionError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  except (BadInputError, DeployError, ContractError, MotionFormatError, FileNotFoundError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2


if __name__ == "__main__":
  sys.exit(main())
