"""Robustness sweep in native MuJoCo: checkpoints x perturbations, scored; marks the best.

    python scripts/st_rl/sweep.py --policies run/exported/model_600 run/exported/model_900 --jobs 2
    python scripts/st_rl/sweep.py --task Flat-G1 --run logs/st_rl/g1_flat/<run> \
        --checkpoints 300 600 900 --jobs 2          # exports each checkpoint first (needs torch)

Each policy runs every case of the grid (nominal, action/observation latency, sensor noise,
friction, added mass, pushes, motor strength; or --grid FILE.yaml) for --duration seconds over a
command schedule. A run passes when the robot survives and tracks (--max-lin-err, --max-yaw-err).
Writes sweep.json and sweep.md (the table) to --out. Exit 0 when the best policy passes every
case, 1 when it does not, 2 for bad input. See docs/sim2mujoco.md.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import yaml


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  add = parser.add_argument
  add("--policies", nargs="+", help="exported folders (deploy.yaml + policy.onnx)")
  add("--run", help="run folder to export and sweep (with --task, --checkpoints); -1: the newest")
  add("--log_root", default="logs/st_rl", help="with --run -1: where runs live")
  add("--experiment_name", help="with --run -1: look only in <log_root>/<experiment_name>/")
  add("--task", help="task id of --run")
  add("--checkpoints", nargs="+", help="iterations or model_<i>.pt names of --run")
  add("--mjcf", help="robot MJCF for every policy (default: each export's robot.xml)")
  add("--grid", help="YAML mapping case name -> perturbation fields (default: built-in grid)")
  add("--schedule", help="YAML list of {t: seconds, cmd: [vx, vy, wz]} (default: built-in 20 s)")
  add("--duration", type=float, default=20.0, help="seconds per run")
  add("--seeds", type=int, default=1, help="runs per case with different seeds")
  add("--max-lin-err", type=float, default=0.3, help="m/s, mean xy-velocity error of a passing run")
  add("--max-yaw-err", type=float, default=0.5, help="rad/s, mean yaw-rate error of a passing run")
  add("--jobs", type=int, default=1, help="worker processes")
  add(
    "--out", help="output folder (default <run>/sweep/<time>/, else logs/sweep/<first policy name>/<time>/)"
  )
  args = parser.parse_args(argv)
  if (args.policies is None) == (args.run is None):
    parser.error("pass either --policies DIR... or --run RUN_DIR --task TASK --checkpoints I...")
  if args.run is not None and (args.task is None or not args.checkpoints):
    parser.error("--run needs --task and --checkpoints")
  return args


def check_values(args: argparse.Namespace) -> None:
  """Values argparse cannot check, before anything runs or is written."""
  from legged_robots.deploy import DeployError

  for flag, value in (
    ("--duration", args.duration),
    ("--max-lin-err", args.max_lin_err),
    ("--max-yaw-err", args.max_yaw_err),
  ):
    if not (math.isfinite(value) and value > 0):
      raise DeployError(f"{flag} must be a finite number > 0, got {value}")
  for flag, count in (("--seeds", args.seeds), ("--jobs", args.jobs)):
    if count < 1:
      raise DeployError(f"{flag} must be at least 1, got {count}")


def load_grid(path: str):
  from legged_robots.deploy import DeployError
  from legged_robots.deploy.closed_loop import Perturbations, SensorNoise

  data = yaml.safe_load(Path(path).read_text())
  if not isinstance(data, dict) or not data:
    raise DeployError(f"{path}: the grid must be a mapping of case name -> perturbation fields")
  known = {f.name for f in fields(Perturbations)}
  noise_known = {f.name for f in fields(SensorNoise)}
  grid = {}
  for name, values in data.items():
    values = dict(values or {})
    unknown = sorted(set(values) - known)
    if unknown:
      raise DeployError(f"{path}: case {name!r} has unknown fields {unknown}; known: {sorted(known)}")
    noise = values.pop("noise", None)
    if isinstance(noise, (int, float)):
      values["noise"] = SensorNoise.training_like(float(noise))
    elif isinstance(noise, dict):
      bad = sorted(set(noise) - noise_known)
      if bad:
        raise DeployError(
          f"{path}: case {name!r} noise has unknown fields {bad}; known: {sorted(noise_known)}"
        )
      values["noise"] = SensorNoise(**noise)
    grid[str(name)] = replace(Perturbations(), **values)
    grid[str(name)].check()
  return grid


def load_schedule(path: str) -> list[tuple[float, list[float]]]:
  from legged_robots.deploy import DeployError

  data = yaml.safe_load(Path(path).read_text())
  try:
    schedule = [(float(e["t"]), [float(v) for v in e["cmd"]]) for e in data]
  except (TypeError, KeyError, ValueError) as e:
    raise DeployError(f"{path}: expected a list of {{t: seconds, cmd: [vx, vy, wz]}} ({e})") from e
  if not schedule or any(len(cmd) != 3 for _, cmd in schedule):
    raise DeployError(f"{path}: every entry needs cmd: [vx, vy, wz]")
  return schedule


def policy_folders(args: argparse.Namespace) -> list[Path]:
  if args.policies is not None:
    return [Path(p) for p in args.policies]
  from legged_robots.rl.cli import configure_headless_gl, configure_output

  configure_headless_gl()
  configure_output(verbose=False)  # Warp's banner and module lines off
  from legged_robots.sim2sim.export_checkpoints import export_checkpoints

  return export_checkpoints(args.task, run_folder(args), [str(c) for c in args.checkpoints])


def run_folder(args: argparse.Namespace) -> Path:
  """--run as given, or with -1 the newest run of --task (as play, train --resume and sim2mujoco)."""
  from legged_robots.deploy import MissingFileError

  if args.run != "-1":
    if not Path(args.run).is_dir():
      raise MissingFileError(
        f"--run {args.run}: no such run folder. Pass a run folder (logs/st_rl/<experiment>/<run>), "
        "or --run -1 with --task for the newest run of that task."
      )
    return Path(args.run)
  from legged_robots.deploy.runs import experiment_dirs, runs_of

  found = runs_of(experiment_dirs(Path(args.log_root), args.experiment_name), args.task)
  if not found:
    raise MissingFileError(
      f"no run of task {args.task} with a checkpoint under {args.log_root}: train it first, "
      "or pass --run RUN_DIR."
    )
  return found[-1]


def run(args: argparse.Namespace) -> int:
  from legged_robots.deploy.runs import tool_output_dir
  from legged_robots.deploy.sweep import (
    DEFAULT_SCHEDULE,
    SweepSettings,
    default_grid,
    markdown_table,
    policy_entry,
    run_sweep,
    write_report,
  )

  check_values(args)
  grid = load_grid(args.grid) if args.grid else default_grid()
  schedule = load_schedule(args.schedule) if args.schedule else list(DEFAULT_SCHEDULE)
  settings = SweepSettings(args.duration, schedule, args.seeds, args.max_lin_err, args.max_yaw_err)
  folders = policy_folders(args)
  policies = [policy_entry(f, args.mjcf) for f in folders]
  out = Path(args.out) if args.out else tool_output_dir(folders[0], "sweep")
  start = time.perf_counter()

  def progress(done: int, total: int, r: dict) -> None:
    eta = (time.perf_counter() - start) / done * (total - done)
    verdict = "pass" if r["passed"] else r["status"]
    print(f"[sweep] {done}/{total} {r['policy']} {r['case']} seed {r['seed']}: {verdict} | ETA {eta:.0f} s")

  print(f"[sweep] {len(policies)} policies x {len(grid)} cases x {args.seeds} seeds, {args.jobs} jobs")
  report = run_sweep(policies, grid, settings, args.jobs, progress)
  write_report(report, out)
  print(markdown_table(report))
  best = report["scores"][0]
  print(f"[sweep] best candidate: {best['policy']} ({best['passed']}/{best['runs']} runs pass) -> {out}")
  return 0 if best["passed"] == best["runs"] else 1


def main(argv: list[str] | None = None) -> int:
  args = parse_args(argv)
  from legged_robots.deploy import ContractError, DeployError

  try:
    return run(args)
  except (DeployError, ContractError, FileNotFoundError, yaml.YAMLError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  except Exception as e:  # the training stack's errors when exporting checkpoints
    from legged_robots.rl.errors import StRlError

    if isinstance(e, StRlError):
      print(f"error: {e}", file=sys.stderr)
      return 2
    raise


if __name__ == "__main__":
  sys.exit(main())
