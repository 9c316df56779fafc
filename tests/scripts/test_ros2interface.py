"""scripts/st_rl/ros2interface.py: the shipped Flat-G1 policy walks over DDS (node + loopback
robot, two processes) for 10 s at 0.5 m/s; bad input exits 2.

Own ROS domain (random in 100-200) and localhost-only discovery; every process started here
runs in a process group that is killed at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "st_rl" / "ros2interface.py"
POLICY = ROOT / "policies" / "flat_g1_h200"
ENV = {
  **os.environ,
  "ROS_DOMAIN_ID": str(random.randint(100, 200)),
  "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
  "CUDA_VISIBLE_DEVICES": "",
  "MUJOCO_GL": "osmesa",
  "PYOPENGL_PLATFORM": "osmesa",
}


def run(*args: str, timeout: float = 180.0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
  """ros2interface.py in its own process group (``env``: default this module's ENV)."""
  proc = subprocess.Popen(
    [sys.executable, str(SCRIPT), *args], env=ENV if env is None else env, cwd=ROOT,
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
  )  # fmt: skip
  try:
    out, err = proc.communicate(timeout=timeout)
  finally:
    # SIGINT lets ros2interface stop its robot process; the robot also dies with its parent.
    for sig, wait in ((signal.SIGINT, 20.0), (signal.SIGKILL, 5.0)):
      if proc.poll() is None:
        os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
          proc.wait(wait)
  return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.slow
def test_shipped_flat_g1_policy_walks_10_s_over_dds(tmp_path):
  out = tmp_path / "ros2"
  result = run("--policy", str(POLICY), "--with-sim", "--duration", "10", "--cmd", "0.5", "0", "0",
               "--no-video", "--out", str(out))  # fmt: skip
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  m = json.loads((out / "metrics.json").read_text())
  assert m["survived"] and m["stop_reason"] == "duration reached"
  assert m["time_running_s"] >= 10.0
  assert m["lin_vel_xy_error_mean"] <= 0.3, m["lin_vel_xy_error_mean"]
  assert m["command_mean"] == pytest.approx([0.5, 0.0, 0.0])
  assert m["damping_fraction"] == 0.0 and m["supervisor_final_state"] == "RUNNING"
  assert [t["to"] for t in m["transitions"]] == ["SOFT_START", "RUNNING"]
  assert m["robot"]["commands"] >= 500 and m["robot"]["refused_commands"] == 0  # 50 Hz for > 10 s
  assert m["control_loop"]["ticks"] >= 500
  assert (out / "plot.png").is_file() and (out / "robot_traces.npz").is_file()


def test_bad_policy_folder_exits_2_with_one_line(tmp_path):
  result = run("--policy", str(tmp_path / "nope"), "--with-sim", timeout=60.0)
  assert result.returncode == 2
  lines = [line for line in result.stderr.splitlines() if line.strip()]
  assert len(lines) == 1 and "deploy.yaml" in lines[0], result.stderr


@pytest.mark.parametrize(
  ("flags", "says"),
  [
    (["--duration", "-1"], "--duration must be a finite number > 0, got -1.0"),
    (["--duration", "nan"], "--duration must be a finite number > 0, got nan"),
    (["--state-rate", "0"], "--state-rate must be a finite number > 0"),
    (["--state-latency-ms", "-5"], "--state-latency-ms must be a finite number >= 0"),
    (["--rt-priority", "120"], "--rt-priority must be 0 (off) or 1-99"),
  ],
)
def test_bad_values_exit_2_before_anything_starts(tmp_path, flags, says):
  """A negative duration ran (0 s RUNNING, exit 0) and wrote a run folder."""
  result = run("--policy", str(POLICY), "--with-sim", "--out", str(tmp_path / "o"), *flags, timeout=60.0)
  assert result.returncode == 2 and says in result.stderr, result.stderr
  assert not (tmp_path / "o").exists()
