"""ROS 2 loopback soak: the policy node and the MuJoCo robot over DDS for minutes, timed.

    python benchmarks/ros2_soak.py [--policy policies/flat_g1_h200] [--minutes 10] [--out DIR]

Two processes on this machine (node in this one, robot in a child), ROS_DOMAIN_ID random
in 100-200 unless set, localhost-only discovery. The robot walks a 20 s command cycle
(forward, turn, stand, back, diagonal) for --minutes. Reports, over every control tick of
the RUNNING part: control period p50/p99/max, ticks started > 5 ms after the timer's due
time (and ticks the timer skipped), state-to-command latency (publish time - stamp of the
joint state used, both from message stamps), command transport (robot receive - command
stamp), CPU use of each process, and the load of the machine (it is shared). Writes
soak.json to --out. Not a test: results go to docs/benchmarks.md and docs/ros2.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CYCLE = [(0.0, (0.5, 0.0, 0.0)), (6.0, (0.3, 0.0, 0.5)), (10.0, (0.0, 0.0, 0.0)), (13.0, (-0.3, 0.0, 0.0)),
         (16.0, (0.4, 0.2, -0.3))]  # fmt: skip


def schedule(seconds: float) -> list[tuple[float, tuple[float, float, float]]]:
  return [(k * 20.0 + t, cmd) for k in range(int(seconds // 20) + 1) for t, cmd in CYCLE]


def stats_ms(values: list[float]) -> dict[str, float]:
  a = np.asarray(values) * 1e3
  return {"p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)), "max": float(a.max())}


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--policy", default=str(ROOT / "policies" / "flat_g1_h200"))
  parser.add_argument("--minutes", type=float, default=10.0)
  parser.add_argument("--out", default="logs/ros2_soak")
  parser.add_argument("--state-rate", type=float, default=200.0)
  parser.add_argument(
    "--rt-priority", type=int, default=0, help="SCHED_FIFO priority of both processes (0: off)"
  )
  args = parser.parse_args()
  os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(100, 200)))
  os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
  from legged_robots.deploy.ros2.session import run_with_sim

  out = Path(args.out)
  loads: list[tuple[float, float]] = []
  done = threading.Event()

  def sample_load() -> None:
    while not done.wait(10.0):
      loads.append((time.monotonic(), os.getloadavg()[0]))

  threading.Thread(target=sample_load, daemon=True).start()
  script = ROOT / "scripts" / "st_rl" / "ros2_mujoco_robot.py"
  robot_cmd = [sys.executable, str(script), "--policy", args.policy, "--out", str(out)]
  robot_cmd += [
    "--video-fps",
    "0",
    "--state-rate",
    str(args.state_rate),
    "--rt-priority",
    str(args.rt_priority),
  ]
  seconds = args.minutes * 60.0
  cpu0, wall0 = time.process_time(), time.monotonic()
  run = run_with_sim(
    Path(args.policy), robot_cmd, out, seconds, schedule(seconds), keep_timing_history=True,
    rt_priority=args.rt_priority,
    progress=lambda line: print(f"[soak] {line}", flush=True),
  )  # fmt: skip
  node_cpu, node_wall = time.process_time() - cpu0, time.monotonic() - wall0
  done.set()
  m, history = run.metrics, run.timing.history
  assert history is not None
  dt = run.timing.dt
  periods, lateness = history["period"], history["lateness"]
  robot = m["robot"]
  loads_1min = [v for _, v in loads] or [0.0]
  result = {
    "policy": args.policy,
    "minutes": args.minutes,
    "status": m["status"],
    "stop_reason": m["stop_reason"],
    "time_running_s": m["time_running_s"],
    "lin_vel_xy_error_mean": m["lin_vel_xy_error_mean"],
    "ticks": run.timing.ticks,
    "control_period_ms": stats_ms(periods),
    "period_jitter_max_ms": float(np.max(np.abs(np.asarray(periods) - dt))) * 1e3,
    "late_cycles_gt_5ms": int(sum(v > 0.005 for v in lateness)),
    "missed_cycles": run.timing.missed,
    "periods_gt_dt_plus_5ms": int(sum(v > dt + 0.005 for v in periods)),
    "lateness_ms": stats_ms(lateness),
    "compute_ms": stats_ms(history["compute"]),
    "state_to_command_ms": stats_ms(history["latency"]),
    "command_transport_ms": robot["command_transport_ms"],
    "node_cpu_percent": 100 * node_cpu / node_wall,
    "robot_cpu_percent": 100 * robot["cpu_s"] / robot["wall_s"],
    "robot_overruns": robot["overruns"],
    "load_avg_1min": {"mean": float(np.mean(loads_1min)), "max": float(max(loads_1min))},
    "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
    "python": sys.version.split()[0],
    "state_rate_hz": args.state_rate,
    "control_rate_hz": 1.0 / dt,
    "rt_priority": args.rt_priority,
  }
  (out / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
  print(json.dumps(result, indent=2))
  return 0 if m["ok"] else 1


if __name__ == "__main__":
  sys.exit(main())
