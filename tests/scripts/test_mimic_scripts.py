"""End to end for Mimic-Flat-G1: train, export with the goal table, sim2sim parity of the
goal terms, and sim2mujoco replaying the goals."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from test_st_rl_scripts import ENV, ROOT, _run  # same folder (pytest puts it on sys.path)

TASK = "Mimic-Flat-G1"
pytestmark = pytest.mark.slow


def test_mimic_trains_exports_goals_passes_parity_and_replays_in_mujoco(tmp_path):
  log_root = tmp_path / "logs"
  fast = ["--num_envs", "4", "agent.num_steps_per_env=8"]
  result = _run("train.py", log_root, "--max_iterations", "1", *fast, task=TASK)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  (run_dir,) = (log_root / "g1_mimic_flat").iterdir()
  exported = run_dir / "exported"
  from legged_robots.deploy import DeployContract

  contract = DeployContract.load(exported / "deploy.yaml")
  (motion,) = [c for c in contract.commands if c.name == "motion"]
  assert motion.goals == "motion_goals.npz"
  goals = np.load(exported / motion.goals)["goals"]
  # One 20 s episode at 50 Hz from clip time 0: 1001 rows; 17 mimicked joints x (pos, vel).
  assert goals.shape == (1001, 34) and np.isfinite(goals).all()
  assert [t.name for t in contract.observations][-1] == "motion_goal"

  script = ROOT / "scripts" / "st_rl"
  parity = subprocess.run(
    [sys.executable, str(script / "sim2sim.py"), "--task", TASK, "--policy", str(exported)],
    env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=600,
  )  # fmt: skip
  assert parity.returncode == 0, parity.stdout[-3000:] + parity.stderr[-3000:]
  assert "motion_goal" in parity.stdout

  out = tmp_path / "s2m"
  sim = subprocess.run(
    [sys.executable, str(script / "sim2mujoco.py"), "--policy", str(exported), "--duration", "1",
     "--no-video", "--out", str(out)],
    env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=600,
  )  # fmt: skip
  assert sim.returncode in (0, 1), sim.stderr[-3000:]  # an untrained policy may fall: exit 1
  assert json.loads((out / "metrics.json").read_text())["status"] in ("survived", "fell")
