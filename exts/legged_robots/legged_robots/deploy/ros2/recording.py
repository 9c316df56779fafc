"""What the loopback robot records, and how a ROS 2 run is scored (as sim2mujoco scores).

The robot process records the true state once per control period (``decimation`` physics
steps) with the monotonic wall time (CLOCK_MONOTONIC is one clock for every process on a
machine, so the node's supervisor transitions line up with it), and qpos at the video rate;
``score`` reads that after the run: fall (tilt > 1 rad or base height < 50 % of the start,
closed_loop's rule) and velocity tracking from ``warmup_s`` after the node entered RUNNING.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from legged_robots.deploy.closed_loop import HEIGHT_FRACTION, TILT_LIMIT_RAD
from legged_robots.deploy.contract import DeployContract
from legged_robots.deploy.mujoco_sim import SimRobot, TrackingRenderer, base_height, read_state
from legged_robots.deploy.ros2.supervisor import tilt_of

ROWS = ("t", "wall", "command", "velocity", "height", "tilt", "torque", "damping")


class Recorder:
  """Per control period: sim time, wall time, operator command, base velocity, height, tilt,
  max |torque| per joint, whether the motors were damping; qpos at ``video_fps``."""

  def __init__(self, contract: DeployContract, model: mujoco.MjModel, video_fps: float):
    self.decimation, self.physics_dt = contract.decimation, contract.physics_dt
    self.command = np.zeros(3)
    """The operator's (vx, vy, wz), clamped to the contract ranges; set by the robot node."""
    self.rows: dict[str, list] = {k: [] for k in ROWS}
    self.qpos: list[np.ndarray] = []
    self._torque = np.zeros(model.nu)
    self._nq = model.nq
    self._video_every = round(1.0 / (video_fps * self.physics_dt)) if video_fps > 0 else 0

  def physics_step(self, robot: SimRobot, data: mujoco.MjData, step: int, wall: float) -> None:
    np.maximum(self._torque, np.abs(data.actuator_force), out=self._torque)
    if self._video_every and step % self._video_every == 0:
      self.qpos.append(data.qpos.copy())
    if step % self.decimation:
      return
    s = read_state(robot, data)
    row = {
      "t": step * self.physics_dt, "wall": wall, "command": self.command.copy(),
      "velocity": np.array([s.base_lin_vel[0], s.base_lin_vel[1], s.base_ang_vel[2]]),
      "height": base_height(robot, data), "tilt": tilt_of(s.base_quat), "torque": self._torque.copy(),
      "damping": bool(np.all(robot.model.actuator_gainprm[:, 0] == 0)),
    }  # fmt: skip
    for k, v in row.items():
      self.rows[k].append(v)
    self._torque[:] = 0

  def save(self, path: Path, **extra: Any) -> None:
    arrays = {k: np.asarray(v) for k, v in self.rows.items()}
    arrays["qpos"] = np.asarray(self.qpos).reshape(-1, self._nq)
    arrays["video_dt"] = np.asarray(self._video_every * self.physics_dt)
    arrays.update({k: np.asarray(v) for k, v in extra.items()})
    np.savez_compressed(path, **arrays)  # pyright: ignore[reportArgumentType]


def score(
  traces: dict[str, np.ndarray],
  running_from: float | None,
  until: float,
  start_height: float,
  warmup_s: float = 1.0,
) -> dict[str, Any]:
  """sim2mujoco-style metrics of the RUNNING part of a run (wall times of the robot's clock)."""
  wall = traces["wall"]
  running = (
    (wall >= running_from) & (wall <= until) if running_from is not None else np.zeros_like(wall, bool)
  )
  fallen = running & ((traces["tilt"] > TILT_LIMIT_RAD) | (traces["height"] < HEIGHT_FRACTION * start_height))
  fell_at = float(wall[np.argmax(fallen)]) if fallen.any() else None
  end = fell_at if fell_at is not None else until
  tracked = running & (wall >= (running_from or 0.0) + warmup_s) & (wall <= end)
  vel, cmd = traces["velocity"][tracked], traces["command"][tracked]
  err_xy = np.linalg.norm(vel[:, :2] - cmd[:, :2], axis=1)
  err_yaw = np.abs(vel[:, 2] - cmd[:, 2])

  def stat(v: np.ndarray, fn) -> float | None:
    return float(fn(v)) if v.size else None

  status = "fell" if fell_at is not None else ("survived" if running.any() else "never_ran")
  return {
    "status": status,
    "survived": status == "survived",
    "fall_rule": f"tilt > {TILT_LIMIT_RAD} rad or base height < {HEIGHT_FRACTION:.0%} of start",
    "time_running_s": float(end - running_from) if running_from is not None else 0.0,
    "warmup_s": warmup_s,
    "lin_vel_xy_error_mean": stat(err_xy, np.mean),
    "lin_vel_xy_error_max": stat(err_xy, np.max),
    "ang_vel_z_error_mean": stat(err_yaw, np.mean),
    "ang_vel_z_error_max": stat(err_yaw, np.max),
    "command_mean": cmd.mean(axis=0).tolist() if cmd.size else None,
    "start_height_m": start_height,
    "damping_fraction": float(np.mean(traces["damping"][running])) if running.any() else None,
  }


def video_frames(
  robot: SimRobot, qpos: np.ndarray, width: int = 640, height: int = 360
) -> Iterator[np.ndarray]:
  """Render recorded qpos frames offscreen with the tracking camera (after the run: no real-time cost)."""
  data = mujoco.MjData(robot.model)
  renderer = TrackingRenderer(robot, width, height)
  try:
    for q in qpos:
      data.qpos[:] = q
      mujoco.mj_forward(robot.model, data)
      yield renderer.frame(data)
  finally:
    renderer.close()
