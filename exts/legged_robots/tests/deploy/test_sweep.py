"""Robustness sweep: scoring and ordering by hand, real MuJoCo runs, the CLI's errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from legged_robots.deploy import DeployError, PolicyRuntime
from legged_robots.deploy.closed_loop import Perturbations
from legged_robots.deploy.sweep import (
  PolicyEntry,
  SweepSettings,
  check_schedule,
  markdown_table,
  policy_entry,
  run_sweep,
  score_policies,
  write_report,
)

REPO = Path(__file__).resolve().parents[4]


def _run(policy: str, case: str, passed: bool, err: float, status: str = "survived") -> dict:
  return {
    "policy": policy,
    "case": case,
    "seed": 0,
    "status": status,
    "time_survived_s": 20.0 if status == "survived" else 3.5,
    "lin_vel_xy_error_mean": err,
    "ang_vel_z_error_mean": 0.1,
    "foot_slip_mean": 0.0,
    "passed": passed,
  }


def test_scores_rank_by_pass_fraction_then_error_then_iteration():
  policies = [PolicyEntry(f"model_{i}", f"/x/{i}", "/x/robot.xml", i) for i in (100, 200, 300)]
  runs = [
    _run("model_100", "a", True, 0.10),
    _run("model_100", "b", False, 0.50),
    _run("model_200", "a", True, 0.20),
    _run("model_200", "b", True, 0.30),  # 2/2, mean error (0.2 + 0.3) / 2 = 0.25
    _run("model_300", "a", True, 0.25),
    _run("model_300", "b", True, 0.25),  # 2/2, same mean error 0.25: later iteration wins the tie
  ]
  table = score_policies(policies, runs)
  assert [row["policy"] for row in table] == ["model_300", "model_200", "model_100"]
  assert table[0]["score"] == 1.0 and table[2]["score"] == 0.5
  assert table[1]["lin_err_passing_mean"] == pytest.approx(0.25)
  assert table[2]["lin_err_passing_mean"] == pytest.approx(0.10)  # passing runs only


def test_markdown_marks_best_and_explains_failures():
  report = {
    "grid": {"nominal": {}, "push": {}},
    "settings": {"seeds": 1},
    "runs": [
      _run("model_1", "nominal", True, 0.123),
      _run("model_1", "push", False, 0.2, status="fell"),
      _run("model_2", "nominal", False, 0.456),
      _run("model_2", "push", False, 0.3, status="fell"),
    ],
    "scores": [
      {"policy": "model_1", "passed": 1, "runs": 2},
      {"policy": "model_2", "passed": 0, "runs": 2},
    ],
    "best": "model_1",
  }
  lines = markdown_table(report).splitlines()
  assert lines[2] == "| model_1 (best) | 1/2 | ok 0.12 | fell 3.5s |"
  assert lines[3] == "| model_2 | 0/2 | err 0.46/0.10 | fell 3.5s |"


def test_schedule_outside_training_ranges_is_refused(g1_export):
  runtime = PolicyRuntime(g1_export)
  check_schedule(runtime, [(0.0, [1.0, 0.3, -1.0])])  # the edges of the trained ranges
  with pytest.raises(DeployError, match=r"lin_vel_x=1.5 is outside the training range \[-0.5, 1.0\]"):
    check_schedule(runtime, [(0.0, [0.5, 0.0, 0.0]), (2.0, [1.5, 0.0, 0.0])])


def test_sweep_in_mujoco_separates_a_walking_and_a_weak_robot(g1_export, tmp_path):
  """The shipped G1 policy walks at 0.5 m/s nominally; with 5 % motor strength it collapses."""
  entry = policy_entry(g1_export)
  assert entry.label == "model_900" and entry.iteration == 900
  grid = {"nominal": Perturbations(), "weak": replace(Perturbations(), motor_strength=0.05)}
  settings = SweepSettings(duration_s=3.0, schedule=[(0.0, [0.5, 0.0, 0.0])], seeds=1)
  serial = run_sweep([entry], grid, settings, jobs=1)
  by_case = {r["case"]: r for r in serial["runs"]}
  assert by_case["nominal"]["passed"] and by_case["nominal"]["status"] == "survived"
  assert by_case["nominal"]["lin_vel_xy_error_mean"] < 0.3
  assert by_case["weak"]["status"] == "fell" and not by_case["weak"]["passed"]
  assert by_case["weak"]["time_survived_s"] < 3.0
  assert serial["scores"][0]["score"] == 0.5 and serial["best"] == "model_900"

  parallel = run_sweep([entry], grid, settings, jobs=2)  # same runs in worker processes
  assert parallel["runs"] == serial["runs"]

  write_report(serial, tmp_path)
  assert json.loads((tmp_path / "sweep.json").read_text())["best"] == "model_900"
  assert "| model_900 (best) | 1/2 | ok" in (tmp_path / "sweep.md").read_text()


def test_two_folders_with_one_label_are_refused(g1_export, tmp_path):
  copy = tmp_path / "exported"
  shutil.copytree(g1_export, copy)
  entries = [policy_entry(g1_export), policy_entry(copy)]
  with pytest.raises(DeployError, match="share a label"):
    run_sweep(entries, {"nominal": Perturbations()}, SweepSettings(duration_s=0.1), jobs=1)


def test_cli_rejects_unknown_grid_field(g1_export, tmp_path):
  grid = tmp_path / "grid.yaml"
  grid.write_text("slippery:\n  friction: 0.2\n")
  proc = subprocess.run(
    [sys.executable, str(REPO / "scripts/st_rl/sweep.py"), "--policies", str(g1_export), "--grid", str(grid)],
    capture_output=True,
    text=True,
    check=False,
  )
  assert proc.returncode == 2, proc.stderr
  assert "case 'slippery' has unknown fields ['friction']" in proc.stderr
  assert "friction_scale" in proc.stderr
