"""Robustness sweep: several exported policies x a grid of perturbations, in native MuJoCo.

Each (policy, case, seed) is one closed-loop run of ``duration_s`` over a command schedule
(``closed_loop.run_closed_loop``). A run *passes* when the robot survives the whole
duration and tracks the commands: mean xy-velocity error <= ``max_lin_err`` and mean
yaw-rate error <= ``max_yaw_err`` (both after the warm-up). A policy's score is the
fraction of its runs that pass; the best candidate for deployment has the highest score,
then the lowest mean xy error over its passing runs, then the highest iteration.

Runs are independent, so ``jobs > 1`` spreads them over processes (each builds its own
ONNX session and MuJoCo model: neither can be shared across processes).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from legged_robots.deploy.closed_loop import (
  Perturbations,
  SensorNoise,
  check_commands,
  run_closed_loop,
  velocity_command_name,
)
from legged_robots.deploy.errors import DeployError
from legged_robots.deploy.exported import resolve_mjcf
from legged_robots.deploy.runtime import PolicyRuntime

Schedule = list[tuple[float, list[float]]]

DEFAULT_SCHEDULE: Schedule = [
  (0.0, [0.5, 0.0, 0.0]),
  (5.0, [1.0, 0.0, 0.0]),
  (10.0, [0.3, 0.2, 0.5]),
  (15.0, [-0.3, 0.0, -0.5]),
]
"""Walk, walk fast, sidestep while turning, walk backwards turning the other way (20 s)."""


def default_grid() -> dict[str, Perturbations]:
  """One factor at a time around the nominal run, at one and two 'notches' of severity."""
  nominal = Perturbations()
  return {
    "nominal": nominal,
    "act_lat_1": replace(nominal, action_latency_steps=1),
    "act_lat_2": replace(nominal, action_latency_steps=2),
    "obs_lat_1": replace(nominal, obs_latency_steps=1),
    "noise_1x": replace(nominal, noise=SensorNoise.training_like(1.0)),
    "noise_2x": replace(nominal, noise=SensorNoise.training_like(2.0)),
    "friction_0.5": replace(nominal, friction_scale=0.5),
    "friction_1.5": replace(nominal, friction_scale=1.5),
    "mass_+5kg": replace(nominal, added_base_mass_kg=5.0),
    "mass_+10kg": replace(nominal, added_base_mass_kg=10.0),
    "push_0.5": replace(nominal, push_interval_s=4.0, push_max_vel=0.5),
    "push_1.0": replace(nominal, push_interval_s=4.0, push_max_vel=1.0),
    "push_1.5": replace(nominal, push_interval_s=4.0, push_max_vel=1.5),
    "motor_0.8": replace(nominal, motor_strength=0.8),
    "motor_0.6": replace(nominal, motor_strength=0.6),
    "motor_1.2": replace(nominal, motor_strength=1.2),
  }


@dataclass(frozen=True)
class SweepSettings:
  duration_s: float = 20.0
  schedule: Schedule = field(default_factory=lambda: list(DEFAULT_SCHEDULE))
  seeds: int = 1
  max_lin_err: float = 0.3
  """m/s: mean |v_xy - cmd_xy| a passing run may have."""
  max_yaw_err: float = 0.5
  """rad/s: mean |w_z - cmd_wz| a passing run may have."""
  warmup_s: float = 1.0


@dataclass(frozen=True)
class PolicyEntry:
  """An exported folder and the MJCF it runs on."""

  label: str
  folder: str
  mjcf: str
  iteration: int | None


@dataclass(frozen=True)
class Job:
  policy: PolicyEntry
  case: str
  perturbations: Perturbations
  seed: int
  settings: SweepSettings


def policy_entry(folder: str | Path, mjcf: str | None = None) -> PolicyEntry:
  """Check folder loads as a policy (contract + ONNX + MJCF) before any run starts."""
  folder = Path(folder).resolve()
  runtime = PolicyRuntime(folder)
  path, _ = resolve_mjcf(folder, runtime.contract, mjcf)
  iteration = runtime.metadata.get("iteration")
  label = folder.name if iteration is None or folder.name.startswith("model_") else f"model_{iteration}"
  return PolicyEntry(label, str(folder), str(path), None if iteration is None else int(iteration))


def check_schedule(runtime: PolicyRuntime, schedule: Schedule) -> None:
  """The policy has a (vx, vy, wz) command to sweep over, and every scheduled command lies in
  the ranges it was trained on (closed_loop.check_commands)."""
  if velocity_command_name(runtime) is None:
    raise DeployError(f"{runtime.contract.task}: the policy has no (vx, vy, wz) command to sweep over")
  check_commands(runtime, schedule)


def run_job(job: Job) -> dict[str, Any]:
  """One closed-loop run, scored (runs in a worker process)."""
  s = job.settings
  runtime = PolicyRuntime(job.policy.folder)
  result = run_closed_loop(
    runtime, job.policy.mjcf, s.duration_s, s.schedule, job.perturbations, job.seed, warmup_s=s.warmup_s
  )
  m = result.metrics
  lin, yaw = m["lin_vel_xy_error_mean"], m["ang_vel_z_error_mean"]
  tracked = lin is not None and yaw is not None and lin <= s.max_lin_err and yaw <= s.max_yaw_err
  return {
    "policy": job.policy.label,
    "case": job.case,
    "seed": job.seed,
    "status": m["status"],
    "time_survived_s": m["time_survived_s"],
    "lin_vel_xy_error_mean": lin,
    "ang_vel_z_error_mean": yaw,
    "foot_slip_mean": m["foot_slip_mean"],
    "passed": bool(m["survived"] and tracked),
  }


def run_sweep(
  policies: Sequence[PolicyEntry],
  grid: dict[str, Perturbations],
  settings: SweepSettings,
  jobs: int = 1,
  progress: Callable[[int, int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
  """Run every (policy, case, seed); return the runs, per-policy scores and the best policy."""
  if not policies:
    raise DeployError("no policies to sweep: pass exported folders (or a run and its checkpoints)")
  if jobs < 1:
    raise DeployError(f"jobs must be >= 1, got {jobs}")
  labels = [p.label for p in policies]
  if len(set(labels)) != len(labels):
    raise DeployError(f"two policies share a label in {labels}: sweep each checkpoint once")
  for entry in policies:
    check_schedule(PolicyRuntime(entry.folder), settings.schedule)
  work = [
    Job(p, case, pert, seed, settings)
    for p in policies
    for case, pert in grid.items()
    for seed in range(settings.seeds)
  ]
  runs: list[dict[str, Any]] = []
  if jobs == 1:
    for job in work:
      runs.append(run_job(job))
      if progress:
        progress(len(runs), len(work), runs[-1])
  else:
    with ProcessPoolExecutor(max_workers=jobs) as pool:
      for future in as_completed([pool.submit(run_job, job) for job in work]):
        runs.append(future.result())
        if progress:
          progress(len(runs), len(work), runs[-1])
  order = {(j.policy.label, j.case, j.seed): i for i, j in enumerate(work)}
  runs.sort(key=lambda r: order[(r["policy"], r["case"], r["seed"])])
  scores = score_policies(policies, runs)
  return {
    "settings": asdict(settings),
    "grid": {name: asdict(p) for name, p in grid.items()},
    "policies": [asdict(p) for p in policies],
    "runs": runs,
    "scores": scores,
    "best": scores[0]["policy"] if scores else None,
  }


def score_policies(policies: Sequence[PolicyEntry], runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
  """Per policy: pass fraction and mean error over passing runs; best first."""
  table = []
  for p in policies:
    mine = [r for r in runs if r["policy"] == p.label]
    passed = [r for r in mine if r["passed"]]
    errs = [r["lin_vel_xy_error_mean"] for r in passed]
    table.append(
      {
        "policy": p.label,
        "folder": p.folder,
        "iteration": p.iteration,
        "runs": len(mine),
        "passed": len(passed),
        "score": len(passed) / len(mine) if mine else 0.0,
        "lin_err_passing_mean": float(np.mean(errs)) if errs else None,
      }
    )
  table.sort(
    key=lambda row: (
      -row["score"],
      row["lin_err_passing_mean"] if row["lin_err_passing_mean"] is not None else math.inf,
      -(row["iteration"] or 0),
    )
  )
  return table


def markdown_table(report: dict[str, Any]) -> str:
  """Policies as rows, cases as columns: 'ok 0.12' (passing run, mean xy error) or why not.

  A run that survived without tracking shows 'err <xy error>/<yaw-rate error>'.
  """
  cases = list(report["grid"])
  seeds = report["settings"]["seeds"]
  lines = [
    "| policy | score | " + " | ".join(cases) + " |",
    "|---|---|" + "---|" * len(cases),
  ]
  by_key = {(r["policy"], r["case"], r["seed"]): r for r in report["runs"]}
  for row in report["scores"]:
    cells = []
    for case in cases:
      parts = []
      for seed in range(seeds):
        r = by_key[(row["policy"], case, seed)]
        if r["passed"]:
          parts.append(f"ok {r['lin_vel_xy_error_mean']:.2f}")
        elif r["status"] != "survived":
          parts.append(f"{r['status']} {r['time_survived_s']:.1f}s")
        else:
          parts.append(f"err {r['lin_vel_xy_error_mean']:.2f}/{r['ang_vel_z_error_mean']:.2f}")
      cells.append(" / ".join(parts))
    mark = " (best)" if row["policy"] == report["best"] else ""
    lines.append(f"| {row['policy']}{mark} | {row['passed']}/{row['runs']} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def write_report(report: dict[str, Any], out_dir: Path) -> None:
  out_dir.mkdir(parents=True, exist_ok=True)
  (out_dir / "sweep.json").write_text(json.dumps(report, indent=2) + "\n")
  s = report["settings"]
  header = (
    f"Robustness sweep: {s['duration_s']:g} s per run, {s['seeds']} seed(s) per case; a run passes "
    f"when it survives and its mean xy-velocity error <= {s['max_lin_err']} m/s and mean yaw-rate "
    f"error <= {s['max_yaw_err']} rad/s. Cells: 'ok <xy err>' passed, 'fell <t>' fell at t, "
    "'err <xy err>/<yaw err>' survived without tracking.\n\n"
  )
  (out_dir / "sweep.md").write_text(header + markdown_table(report) + "\n")
