"""The loopback robot: an exported policy's robot.xml in native MuJoCo behind ROS 2 topics.

    python scripts/st_rl/ros2_mujoco_robot.py --policy policies/flat_g1_h200 [--out DIR]
        [--stgym-topics] [--command-source pd|forward] [--state-rate 200] [--noise-scale K]
        [--state-latency-ms MS] [--ros-args -p name:=value ...]

Publishes /joint_states, /imu, /odom (or st_gym's /state), applies the PD targets of
/joint_pd_targets (or the forward command topic, or /action) in real time, the stand-in for
a robot driver. Physics starts with the first command. On SIGINT/SIGTERM it writes
robot_traces.npz and robot.json to --out. Exit status: 0, or 2 on bad input.
See docs/ros2.md; scripts/st_rl/ros2interface.py --with-sim starts it for you.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse_args(argv: list[str]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  add = parser.add_argument
  add("--policy", required=True, help="exported folder (deploy.yaml, policy.onnx, robot.xml)")
  add("--mjcf", help="robot MJCF (default: the exported robot.xml)")
  add("--out", help="folder for robot_traces.npz and robot.json, written on exit")
  add("--stgym-topics", action="store_true", help="st_gym's /state and /action Float32MultiArray layout")
  add(
    "--command-source", choices=("pd", "forward"), default="pd", help="which command topic drives the motors"
  )
  add("--state-rate", type=float, default=200.0, help="Hz of /joint_states, /imu, /odom")
  add("--noise-scale", type=float, default=0.0, help="sensor noise, x training's noise std")
  add("--state-latency-ms", type=float, default=0.0, help="delay of every state message")
  add("--seed", type=int, default=0)
  add("--video-fps", type=float, default=25.0, help="qpos recording rate for the video (0: none)")
  add("--rt-priority", type=int, default=0, help="SCHED_FIFO priority 1-99 (needs root or rtprio; 0: normal)")
  return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
  from rclpy.utilities import remove_ros_args

  full = sys.argv if argv is None else [sys.argv[0], *argv]
  args = parse_args(remove_ros_args(full)[1:])
  from legged_robots.deploy import ContractError, DeployError
  from legged_robots.deploy.ros2.session import run_robot

  overrides = {
    "stgym_topics": args.stgym_topics,
    "command_source": args.command_source,
    "state_rate_hz": args.state_rate,
    "noise_scale": args.noise_scale,
    "state_latency_ms": args.state_latency_ms,
    "seed": args.seed,
    "video_fps": args.video_fps,
  }
  try:
    out = Path(args.out) if args.out else None
    return run_robot(Path(args.policy), out, overrides, full, args.mjcf, args.rt_priority)
  except (DeployError, ContractError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2


if __name__ == "__main__":
  sys.exit(main())
