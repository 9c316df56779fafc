"""Processes of a ROS 2 run: the loopback robot's main, the node's main, and node + robot.

``run_with_sim`` starts the robot command (``scripts/st_rl/ros2_mujoco_robot.py``) as a
second process in its own process group, runs ``PolicyNode`` (auto-enabled) and a teleop
node publishing the command schedule from the moment the node is RUNNING, stops when the
node has been RUNNING for ``duration_s`` (or went to DAMPING, or the robot exited), stops
the robot with SIGINT (SIGKILL after a grace period) so it writes its traces, and scores
them (``recording.score``). Times are CLOCK_MONOTONIC, shared by both processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
from geometry_msgs.msg import Twist
from rclpy.context import Context
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions
from std_msgs.msg import Float32MultiArray

from legged_robots.deploy.closed_loop import command_at
from legged_robots.deploy.errors import DeployError
from legged_robots.deploy.ros2.loopback import MujocoRobotNode
from legged_robots.deploy.ros2.node import PolicyNode
from legged_robots.deploy.ros2.recording import score
from legged_robots.deploy.ros2.ros_io import Spinner, spin_until
from legged_robots.deploy.ros2.supervisor import SupervisorState
from legged_robots.deploy.ros2.timing import LoopTiming

TRACES, ROBOT_JSON = "robot_traces.npz", "robot.json"


def _stop_on_signals() -> Callable[[], bool]:
  """SIGINT/SIGTERM set a flag that spin_until polls (rclpy's own handlers are off)."""
  stop = threading.Event()
  for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda *_: stop.set())
  return stop.is_set


def die_with_parent() -> None:
  """Linux: SIGTERM this process when its parent exits, even by SIGKILL (no orphaned robot
  keeps publishing /joint_states after the node that started it was killed)."""
  if not sys.platform.startswith("linux"):
    return
  import ctypes

  parent, pr_set_pdeathsig = os.getppid(), 1
  ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
  if os.getppid() != parent:  # the parent died before prctl
    os.kill(os.getpid(), signal.SIGTERM)


def set_realtime(priority: int) -> None:
  """SCHED_FIFO at ``priority`` (1-99) for this process's threads created from now on (0: leave
  it). Call before rclpy.init so the DDS threads inherit it; needs root or an rtprio limit."""
  if priority <= 0:
    return
  try:
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
  except (PermissionError, AttributeError, OSError) as e:
    raise DeployError(
      f"cannot run at real-time priority {priority} ({e}): run as root, or grant it with "
      "`ulimit -r` / limits.conf rtprio, or drop --rt-priority"
    ) from None


def _init(ros_args: list[str] | None, rt_priority: int = 0) -> Context:
  set_realtime(rt_priority)
  context = Context()
  rclpy.init(args=ros_args, context=context, signal_handler_options=SignalHandlerOptions.NO)
  return context


def run_robot(
  folder: Path,
  out: Path | None,
  overrides: dict[str, Any],
  ros_args: list[str] | None,
  mjcf: str | None = None,
  rt_priority: int = 0,
) -> int:
  """The loopback robot until SIGINT/SIGTERM; then its traces and statistics go to ``out``."""
  started = time.monotonic()
  stop = _stop_on_signals()
  die_with_parent()
  context = _init(ros_args, rt_priority)
  try:
    robot = MujocoRobotNode(folder, overrides, mjcf=mjcf, context=context)
    spin_until(context, [robot], stop)
  finally:
    context.try_shutdown()
  if out is not None:
    out.mkdir(parents=True, exist_ok=True)
    robot.recorder.save(out / TRACES)
    latency = np.asarray(robot.command_latency)
    stats = {
      "start_height_m": robot.start_height, "physics_steps": robot.steps,
      "commands": robot.commands, "refused_commands": robot.refused, "overruns": robot.overruns,
      "command_transport_ms": _percentiles(latency * 1e3), "mjcf": str(robot.mjcf),
      "cpu_s": time.process_time(), "wall_s": time.monotonic() - started,
    }  # fmt: skip
    (out / ROBOT_JSON).write_text(json.dumps(stats, indent=2) + "\n")
  return 0


def _percentiles(values: np.ndarray) -> dict[str, float] | None:
  if not values.size:
    return None
  return {f"p{q}": float(np.percentile(values, q)) for q in (50, 99)} | {"max": float(values.max())}


def run_node(
  folder: Path, overrides: dict[str, Any], ros_args: list[str] | None, rt_priority: int = 0
) -> PolicyNode:
  """The policy node until SIGINT/SIGTERM (a real robot); returns it for its statistics."""
  context = _init(ros_args, rt_priority)
  try:
    node = PolicyNode(folder, overrides, context=context)
    spin_until(context, [node], _stop_on_signals())
  finally:
    context.try_shutdown()
  return node


class TeleopNode(Node):
  """Publishes a command schedule at 20 Hz on /cmd_vel (or /joy_cmd), t = 0 when the node runs."""

  def __init__(self, context: Context, schedule, policy: PolicyNode, stgym: bool):
    super().__init__("st_gym_teleop", context=context)
    self.schedule, self.policy, self.stgym = schedule, policy, stgym
    self.running_from: float | None = None
    self._joy = self.create_publisher(Float32MultiArray, policy.params.stgym_cmd_topic, 10) if stgym else None
    self._twist = None if stgym else self.create_publisher(Twist, policy.params.cmd_vel_topic, 10)
    self.create_timer(0.05, self._on_timer)

  def _on_timer(self) -> None:
    sup = self.policy.controller.supervisor
    if self.running_from is None:
      self.running_from = next((t.time for t in sup.transitions if t.target is SupervisorState.RUNNING), None)
    t = None if self.running_from is None else time.monotonic() - self.running_from
    cmd = np.zeros(3) if t is None else command_at(self.schedule, t)
    if self._joy is not None:
      self._joy.publish(Float32MultiArray(data=[float(v) for v in cmd]))
    if self._twist is not None:
      msg = Twist()
      msg.linear.x, msg.linear.y, msg.angular.z = (float(v) for v in cmd)
      self._twist.publish(msg)


def start_process(
  command: Sequence[str], env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen:
  """A child in its own process group (so that stop_process reaches everything it starts)."""
  out = open(log, "w") if log is not None else subprocess.DEVNULL  # noqa: SIM115 (closed with the process)
  return subprocess.Popen(
    list(command), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
  )


def stop_process(proc: subprocess.Popen, grace_s: float = 15.0) -> int:
  """SIGINT to the group, SIGKILL if it has not exited after grace_s; returns its exit code."""
  for sig, wait in ((signal.SIGINT, grace_s), (signal.SIGKILL, 5.0)):
    if proc.poll() is not None:
      break
    try:
      os.killpg(proc.pid, sig)
    except ProcessLookupError:
      break
    try:
      proc.wait(wait)
    except subprocess.TimeoutExpired:
      continue
  return proc.wait()


@dataclass
class SimRun:
  metrics: dict[str, Any]
  """JSON-ready: recording.score's metrics, stop reason, supervisor transitions, loop timing, robot stats."""
  traces: dict[str, np.ndarray]
  """The robot's recording (recording.ROWS, qpos frames)."""
  timing: LoopTiming
  """The node's control-loop timing (every tick with keep_timing_history)."""


def run_with_sim(
  folder: Path, robot_command: Sequence[str], out: Path, duration_s: float, schedule, *,
  node_overrides: dict[str, Any] | None = None, stgym: bool = False, ros_args: list[str] | None = None,
  warmup_s: float = 1.0, start_timeout_s: float = 60.0, progress: Callable[[str], None] = print,
  keep_timing_history: bool = False, rt_priority: int = 0,
) -> SimRun:  # fmt: skip
  """Node (this process) + loopback robot (``robot_command``, writing to ``out``), scored; a
  policy the node refuses raises before anything is written or started."""
  context = _init(ros_args, rt_priority)
  overrides = {"auto_enable": True, "stgym_topics": stgym, **(node_overrides or {})}
  try:
    node = PolicyNode(folder, overrides, context=context, keep_timing_history=keep_timing_history)
  except BaseException:
    context.try_shutdown()
    raise
  teleop = TeleopNode(context, schedule, node, stgym)
  out.mkdir(parents=True, exist_ok=True)
  proc = start_process(robot_command, log=out / "robot.log")
  spinner = Spinner(context, [node, teleop])
  start, reason, next_report = time.monotonic(), "duration reached", 5.0
  try:
    while True:
      time.sleep(0.05)
      now, state = time.monotonic(), node.controller.state
      running = teleop.running_from
      if proc.poll() is not None:
        reason = f"robot process exited ({proc.returncode})"
        break
      if running is None and now - start > start_timeout_s:
        reason = f"never RUNNING within {start_timeout_s} s ({node.controller.supervisor.waiting_for})"
        break
      if running is not None and now - running >= duration_s:
        break
      if state is SupervisorState.DAMPING:
        time.sleep(1.0)  # record the robot's reaction
        reason = f"DAMPING: {node.controller.supervisor.last_fault}"
        break
      if running is not None and now - running >= next_report:
        next_report += 5.0
        progress(f"t={now - running:5.1f} s RUNNING  {node.timing.late} late cycles")
  finally:
    end = time.monotonic()
    spinner.stop()  # the node stops first: the robot's silence is not a fault of this run
    robot_exit = stop_process(proc)
    context.try_shutdown()
  if not (out / TRACES).is_file():
    raise RuntimeError(f"the robot process wrote no traces (exit {robot_exit}); see {out / 'robot.log'}")
  robot = json.loads((out / ROBOT_JSON).read_text())
  traces = dict(np.load(out / TRACES))
  metrics = score(traces, teleop.running_from, end, robot["start_height_m"], warmup_s)
  sup = node.controller.supervisor
  transitions = [
    {"t": round(t.time - start, 3), "from": t.source.value, "to": t.target.value, "reason": t.reason}
    for t in sup.transitions
  ]
  metrics.update(
    stop_reason=reason,
    duration_s=duration_s,
    supervisor_final_state=sup.state.value,
    last_fault=sup.last_fault,
    transitions=transitions,
    control_loop=node.timing.summary(),
    policy_steps=node.controller.policy_steps,
    goal_row=node.controller.goal_row,
    robot=robot,
    ok=metrics["survived"] and all(t.target is not SupervisorState.DAMPING for t in sup.transitions),
  )
  return SimRun(metrics, traces, node.timing)
