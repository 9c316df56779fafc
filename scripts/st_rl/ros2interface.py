"""Run an exported policy as a ROS 2 node behind the safety supervisor (docs/ros2.md).

    python scripts/st_rl/ros2interface.py --policy policies/flat_g1_h200   # real robot: waits for ~/enable
    python scripts/st_rl/ros2interface.py --task Flat-G1 --with-sim --cmd 0.5 0 0 --duration 20
    python scripts/st_rl/ros2interface.py --policy DIR --stgym-topics [--ros-args -p soft_start_s:=3.0 ...]

Without --with-sim the node runs until Ctrl-C: it reads /joint_states, /imu, /cmd_vel and
publishes joint targets; call ~/enable (std_srvs/SetBool) to soft-start, ~/estop to damp.
--with-sim also starts the MuJoCo loopback robot (scripts/st_rl/ros2_mujoco_robot.py) as a
second process, enables the node, drives /cmd_vel from --cmd/--schedule once the node is
RUNNING, and writes metrics.json, plot.png and video.mp4 as sim2mujoco does.
Motion policies (mimic) replay their goal table, one row per control tick from RUNNING on; a
tracking export (starts in its clip's first frame) is refused unless --accept-start-pose-mismatch.
Exit status: 0 ran (--with-sim: survived, never damped), 1 fell or damped, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  add = parser.add_argument
  add("--policy", help="exported folder (deploy.yaml, policy.onnx, robot.xml); wins over --task")
  add("--task", help="task id: the newest run of this task under --log_root")
  add("--load_run", default="-1", help="run folder name (default -1: newest)")
  add("--checkpoint", default="-1", help="iteration the export must hold (-1: whatever exported/ holds)")
  add("--log_root", default="logs/st_rl")
  add("--experiment_name", help="with --task: look only in logs/.../<experiment_name>/")
  add(
    "--stgym-topics", action="store_true", help="st_gym's /state, /action, /joy_cmd Float32MultiArray layout"
  )
  add("--auto-enable", action="store_true", help="soft-start as soon as the state is complete (no ~/enable)")
  add(
    "--accept-start-pose-mismatch", action="store_true",
    help="run a policy trained from its clip's first frame (tracking) from the default pose (docs/ros2.md)",
  )  # fmt: skip
  add("--with-sim", action="store_true", help="also run the MuJoCo loopback robot; score the run")
  add("--duration", type=float, default=20.0, help="--with-sim: seconds of RUNNING")
  add(
    "--cmd",
    type=float,
    nargs=3,
    metavar=("VX", "VY", "WZ"),
    help="--with-sim: constant command (default 0.5 0 0)",
  )
  add("--schedule", help="--with-sim: YAML list of {t: seconds, cmd: [vx, vy, wz]}, t = 0 when RUNNING")
  add(
    "--command-source", choices=("pd", "forward"), default="pd", help="--with-sim: what drives the sim motors"
  )
  add("--state-rate", type=float, default=200.0, help="--with-sim: Hz of the robot's state topics")
  add("--noise-scale", type=float, default=0.0, help="--with-sim: sensor noise, x training's noise std")
  add("--state-latency-ms", type=float, default=0.0, help="--with-sim: delay of every state message")
  add("--out", help="--with-sim output folder (default <run>/ros2/<time>/, else logs/ros2/<name>/<time>/)")
  add(
    "--rt-priority", type=int, default=0, help="SCHED_FIFO priority 1-99 of node (and sim); needs root/rtprio"
  )
  add("--no-video", action="store_true")
  args = parser.parse_args(argv)
  if args.policy is None and args.task is None:
    parser.error("pass --policy EXPORTED_DIR or --task TASK")
  if args.cmd is not None and args.schedule is not None:
    parser.error("--cmd and --schedule exclude each other")
  for flag, value, bound in (
    ("--duration", args.duration, "> 0"),
    ("--state-rate", args.state_rate, "> 0"),
    ("--noise-scale", args.noise_scale, ">= 0"),
    ("--state-latency-ms", args.state_latency_ms, ">= 0"),
  ):
    if not (math.isfinite(value) and (value > 0 if bound == "> 0" else value >= 0)):
      parser.error(f"{flag} must be a finite number {bound}, got {value}")
  if not 0 <= args.rt_priority <= 99:
    parser.error(f"--rt-priority must be 0 (off) or 1-99, got {args.rt_priority}")
  return args


def exported_folder(args: argparse.Namespace) -> Path:
  from legged_robots.deploy import MissingFileError
  from legged_robots.deploy.exported import find_exported

  if args.policy is not None:
    folder = Path(args.policy)
    if not (folder / "deploy.yaml").is_file():
      raise MissingFileError(f"--policy {folder} has no deploy.yaml: pass a run's exported/ folder")
    return folder
  return find_exported(Path(args.log_root), args.task, args.load_run, args.checkpoint, args.experiment_name)


def with_sim(args: argparse.Namespace, folder: Path, ros_args: list[str]) -> int:
  from sim2mujoco import Mp4Writer, plot, schedule_of  # the sibling script: same outputs

  from legged_robots.deploy.mujoco_sim import build_sim
  from legged_robots.deploy.ros2.inputs import VelocityCommand
  from legged_robots.deploy.ros2.recording import video_frames
  from legged_robots.deploy.ros2.session import run_with_sim
  from legged_robots.deploy.runs import tool_output_dir
  from legged_robots.deploy.runtime import load_contract

  out = Path(args.out) if args.out else tool_output_dir(folder, "ros2")
  robot_cmd = [
    sys.executable, str(HERE / "ros2_mujoco_robot.py"), "--policy", str(folder), "--out", str(out),
    "--command-source", args.command_source, "--state-rate", str(args.state_rate),
    "--noise-scale", str(args.noise_scale), "--state-latency-ms", str(args.state_latency_ms),
    "--video-fps", "0" if args.no_video else "25", "--rt-priority", str(args.rt_priority),
  ] + (["--stgym-topics"] if args.stgym_topics else [])  # fmt: skip
  print(
    f"[ros2interface] node + loopback robot over DDS (ROS_DOMAIN_ID={os.environ.get('ROS_DOMAIN_ID', '0')})"
  )
  contract = load_contract(folder)
  velocity = VelocityCommand.of(contract)
  for t, cmd in schedule_of(args) if velocity is not None else ():
    clamped, changed = velocity.clamp(cmd)
    if changed:  # the node's safety clamp, as for any /cmd_vel (docs/ros2.md)
      print(f"[ros2interface] command {cmd} at t={t} s is outside the trained ranges: the node clamps it to "
            f"{np.round(clamped, 3).tolist()}")  # fmt: skip
  wall = time.perf_counter()
  run = run_with_sim(
    folder, robot_cmd, out, args.duration, schedule_of(args), stgym=args.stgym_topics, ros_args=ros_args,
    rt_priority=args.rt_priority,
    node_overrides={"accept_start_pose_mismatch": args.accept_start_pose_mismatch},
    progress=lambda line: print(f"[ros2interface] {line}", flush=True),
  )  # fmt: skip
  m = run.metrics
  m.update(policy=str(folder), wall_s=time.perf_counter() - wall)
  (out / "metrics.json").write_text(json.dumps(m, indent=2) + "\n")
  effort = np.asarray(contract.effort_limit)
  tr = run.traces
  if tr["t"].size:
    traces = {
      "t": tr["wall"] - tr["wall"][0],
      **{k: tr[k] for k in ("command", "velocity", "height", "torque")},
    }
    plot(
      traces, np.where(np.isfinite(effort), effort, 1.0), out / "plot.png", f"{contract.task}: ROS 2 loopback"
    )
  if not args.no_video and tr["qpos"].size:
    robot = build_sim(Path(m["robot"]["mjcf"]), contract)
    writer = Mp4Writer(out / "video.mp4", 1.0 / float(tr["video_dt"]), 640, 360)
    try:
      for frame in video_frames(robot, tr["qpos"]):
        writer.write(frame)
    finally:
      writer.close()
  err = m["lin_vel_xy_error_mean"]
  loop = m["control_loop"]
  err_text = "n/a" if err is None else f"{err:.3f} m/s"
  print(
    f"[ros2interface] {m['status']} ({m['stop_reason']}): {m['time_running_s']:.1f} s RUNNING, "
    f"xy-velocity error {err_text}; control period p99 {loop.get('period_p99_ms', 0):.2f} ms, "
    f"{loop['late_cycles']} late cycles -> {out}"
  )
  return 0 if m["ok"] else 1


def main(argv: list[str] | None = None) -> int:
  from rclpy.utilities import remove_ros_args

  full = sys.argv if argv is None else [sys.argv[0], *argv]
  args = parse_args(remove_ros_args(full)[1:])
  if "MUJOCO_GL" not in os.environ:
    os.environ["MUJOCO_GL"] = "osmesa"  # the video is rendered offscreen after the run
    os.environ["PYOPENGL_PLATFORM"] = "osmesa"
  from legged_robots.deploy import ContractError, DeployError

  try:
    folder = exported_folder(args)
    if args.with_sim:
      return with_sim(args, folder, full)
    from legged_robots.deploy.ros2.session import run_node

    overrides = {
      "auto_enable": args.auto_enable, "stgym_topics": args.stgym_topics,
      "accept_start_pose_mismatch": args.accept_start_pose_mismatch,
    }  # fmt: skip
    node = run_node(folder, overrides, full, args.rt_priority)
    print(f"[ros2interface] stopped in {node.controller.state.value}; control loop {node.timing.summary()}")
    return 0
  except (DeployError, ContractError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2


if __name__ == "__main__":
  sys.exit(main())
