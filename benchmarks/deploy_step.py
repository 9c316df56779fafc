"""Deploy-side speed: one control step of PolicyRuntime, and sim2mujoco's real-time factor.

  deploy step   observe + ONNX inference + joint targets + PD torques for one robot state,
                on one CPU core (process pinned, onnxruntime 1 thread); median and p99 in
                microseconds over --steps states recorded from a walking closed loop
  real time     simulated seconds per wall second of run_closed_loop (headless, no video),
                --duration seconds, best and median of --repeats runs

Targets (issue 5): deploy step <= 500 us, sim2mujoco >= 10x real time.

Usage:
  python benchmarks/deploy_step.py [--policy policies/flat_g1_h200] [--mjcf robot.xml]
      [--steps 5000] [--duration 20] [--repeats 3]

Without --mjcf and without robot.xml in the exported folder, the trained robot model is
written first from the task's env (a subprocess that imports mjlab; timing runs without it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mujoco
import numpy as np
import onnxruntime as ort

from legged_robots.deploy import PolicyRuntime, RobotState
from legged_robots.deploy.closed_loop import ClosedLoop, run_closed_loop
from legged_robots.deploy.exported import resolve_mjcf
from legged_robots.deploy.mujoco_sim import read_state

ROOT = Path(__file__).resolve().parents[1]


def robot_model(folder: Path, runtime: PolicyRuntime, mjcf: str | None) -> tuple[Path, str]:
  """The MJCF to simulate: --mjcf, exported robot.xml, or one written from the task env now."""
  if mjcf is not None or runtime.contract.robot.sim_mjcf is not None:
    return resolve_mjcf(folder, runtime.contract, mjcf)
  path = Path(tempfile.mkdtemp()) / "robot.xml"
  code = (
    "import sys; from legged_robots.tasks import make_env; "
    "from legged_robots.rl.contract_builder import robot_mjcf; "
    "env = make_env(sys.argv[1], device='cpu', num_envs=1, seed=0); "
    "open(sys.argv[2], 'w').write(robot_mjcf(env.unwrapped, sys.argv[3]))"
  )
  env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "MJLAB_WARP_QUIET": "1"}
  args = [sys.executable, "-c", code, runtime.contract.task, str(path), runtime.contract.robot.entity_name]
  subprocess.run(args, env=env, check=True, capture_output=True)
  return path, f"written from task {runtime.contract.task} (rl.contract_builder.robot_mjcf)"


def record_states(runtime: PolicyRuntime, mjcf: Path, n: int) -> list[RobotState]:
  """n robot states of a walking run (commands cycling through forward, sideways and turning)."""
  states: list[RobotState] = []
  commands = [np.array(c) for c in ((0.5, 0.0, 0.0), (0.0, 0.3, 0.0), (0.3, 0.0, 0.8))]
  while len(states) < n:
    loop = ClosedLoop(runtime, mjcf, seed=len(states))
    for k in range(min(500, n - len(states))):
      states.append(read_state(loop.robot, loop.data))
      loop.step(commands[(k // 100) % len(commands)])
  return states


def time_deploy_step(runtime: PolicyRuntime, states: list[RobotState]) -> dict[str, float]:
  """Per-state wall time (us) of the whole step and of its parts."""
  runtime.reset()
  runtime.set_command("base_velocity", np.array([0.5, 0.0, 0.0]))
  for state in states[:200]:  # warm up caches and onnxruntime's first runs
    runtime.pd_torques(runtime.step(state), state.joint_pos, state.joint_vel)
  total, observe, infer, law = [], [], [], []
  clock = time.perf_counter_ns
  for state in states:
    t0 = clock()
    obs = runtime.observe(state)
    t1 = clock()
    raw = runtime.infer(obs)
    t2 = clock()
    runtime.last_action = raw
    runtime.pd_torques(runtime.joint_targets(raw), state.joint_pos, state.joint_vel)
    t3 = clock()
    total.append(t3 - t0)
    observe.append(t1 - t0)
    infer.append(t2 - t1)
    law.append(t3 - t2)
  us = lambda v, q: float(np.percentile(np.asarray(v) / 1e3, q))  # noqa: E731
  return {
    "steps": len(states),
    "median_us": us(total, 50),
    "p99_us": us(total, 99),
    "observe_median_us": us(observe, 50),
    "infer_median_us": us(infer, 50),
    "targets_pd_median_us": us(law, 50),
  }


def real_time_factor(runtime: PolicyRuntime, mjcf: Path, duration: float, repeats: int) -> dict[str, object]:
  factors, statuses = [], []
  for seed in range(repeats):
    start = time.perf_counter()
    result = run_closed_loop(runtime, mjcf, duration, [(0.0, (0.5, 0.0, 0.0))], seed=seed)
    wall = time.perf_counter() - start
    factors.append(result.metrics["time_survived_s"] / wall)
    statuses.append(result.metrics["status"])
  return {
    "duration_s": duration,
    "best_x": max(factors),
    "median_x": float(np.median(factors)),
    "status": statuses,
  }


def versions() -> dict[str, str]:
  cpu = platform.processor()
  cpuinfo = Path("/proc/cpuinfo")
  if cpuinfo.is_file():
    names = [
      ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if ln.startswith("model name")
    ]
    cpu = names[0] if names else cpu
  return {
    "python": platform.python_version(),
    "numpy": np.__version__,
    "mujoco": mujoco.__version__,
    "onnxruntime": ort.__version__,
    "cpu": cpu,
  }


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--policy", default=str(ROOT / "policies" / "flat_g1_h200"))
  parser.add_argument("--mjcf")
  parser.add_argument("--steps", type=int, default=5000)
  parser.add_argument("--duration", type=float, default=20.0)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--core", type=int, default=0, help="CPU core to pin the process to")
  args = parser.parse_args()
  if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {args.core})
  folder = Path(args.policy)
  runtime = PolicyRuntime(folder, threads=1)
  mjcf, source = robot_model(folder, runtime, args.mjcf)
  print(f"[deploy_step] policy {folder} ({runtime.contract.task}, obs {runtime.contract.policy.obs_dim}, "
        f"actions {runtime.contract.policy.action_dim}); MJCF {mjcf} ({source})", flush=True)  # fmt: skip
  states = record_states(runtime, mjcf, args.steps)
  step = time_deploy_step(runtime, states)
  rtf = real_time_factor(runtime, mjcf, args.duration, args.repeats)
  print(
    f"[deploy_step] deploy step on 1 core: median {step['median_us']:.0f} us, p99 {step['p99_us']:.0f} us "
    f"(observe {step['observe_median_us']:.0f}, ONNX {step['infer_median_us']:.0f}, "
    f"targets+PD {step['targets_pd_median_us']:.0f}) over {step['steps']} states; target <= 500 us"
  )
  print(
    f"[deploy_step] sim2mujoco headless: {rtf['median_x']:.1f}x real time (best {rtf['best_x']:.1f}x, "
    f"{rtf['duration_s']:g} s runs: {rtf['status']}); target >= 10x"
  )
  print(json.dumps({"deploy_step": step, "sim2mujoco": rtf, "versions": versions()}))


if __name__ == "__main__":
  main()
