"""A GaitTrajectory of an exported policy walking in native MuJoCo (``legged_robots.deploy``).

Imports numpy, mujoco and ``legged_robots.deploy`` only (no torch, no mjlab): the exported
folder (policy.onnx + deploy.yaml + robot.xml) is all it needs. Contact uses the rule of
the clip side (``style.foot_contact`` on the lowest point of the foot's collision geoms),
so policy and clips are measured the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mujoco
import numpy as np

from legged_robots.deploy.closed_loop import HEIGHT_FRACTION, TILT_LIMIT_RAD, ClosedLoop
from legged_robots.deploy.errors import DeployError
from legged_robots.deploy.exported import resolve_mjcf
from legged_robots.deploy.mujoco_sim import read_state
from legged_robots.deploy.runtime import PolicyRuntime
from legged_robots.evaluation.style import (
  CONTACT_HEIGHT,
  CONTACT_SPEED,
  FOOT_BODIES,
  TORSO_BODY,
  GaitTrajectory,
  foot_contact,
)


class PolicyFellError(RuntimeError):
  """The robot fell (closed_loop's rule) before the rollout ended: its gait is not a style."""


def _body(model: mujoco.MjModel, name: str) -> int:
  body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)
  if body < 0:
    raise DeployError(f"the robot model has no body {name!r}; style statistics need {list(FOOT_BODIES)}")
  return body


def _collision_geoms(model: mujoco.MjModel, body: int) -> list[int]:
  return [
    g
    for g in range(model.ngeom)
    if model.geom_bodyid[g] == body and (model.geom_contype[g] or model.geom_conaffinity[g])
  ]


def policy_trajectory(
  exported_dir: str | Path,
  command: Sequence[float] = (0.5, 0.0, 0.0),
  duration_s: float = 10.0,
  seed: int = 0,
  warmup_s: float = 1.0,
  contact_height: float = CONTACT_HEIGHT,
  contact_speed: float = CONTACT_SPEED,
) -> GaitTrajectory:
  """Run the policy at a constant (vx, vy, wz) command; record every control step after warmup_s.

  Raises PolicyFellError on a fall, NonFiniteActionError on a NaN action, DeployError on
  bad input (no velocity command but a non-zero one asked for, missing foot bodies).
  """
  folder = Path(exported_dir)
  runtime = PolicyRuntime(folder)
  mjcf, _ = resolve_mjcf(folder, runtime.contract, None)
  loop = ClosedLoop(runtime, mjcf, seed=seed)
  if loop.command_name is None and any(command):
    raise DeployError(f"the policy in {folder} has no (vx, vy, wz) command; run it with a zero command")
  m, d, robot = loop.model, loop.data, loop.robot
  feet = [_body(m, name) for name in FOOT_BODIES]
  foot_geoms = [_collision_geoms(m, b) for b in feet]
  torso = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, TORSO_BODY)
  r = robot.root_qpos_adr
  rows: dict[str, list[np.ndarray]] = {k: [] for k in ("q", "pos", "quat", "vel", "feet", "low", "torso")}
  for _ in range(round(duration_s / runtime.contract.step_dt)):
    info = loop.step(np.asarray(command, dtype=np.float64))
    if info.tilt > TILT_LIMIT_RAD or info.height < HEIGHT_FRACTION * loop.start_height:
      raise PolicyFellError(f"the policy fell at t = {info.t:.2f} s at command {list(command)}")
    if info.t < warmup_s - 1e-9:
      continue
    mujoco.mj_kinematics(m, d)  # body poses of the current qpos (mj_step leaves them one step old)
    rows["q"].append(d.qpos[robot.qpos_adr].copy())
    rows["pos"].append(d.qpos[r : r + 3].copy())
    rows["quat"].append(d.qpos[r + 3 : r + 7].copy())
    rows["vel"].append(read_state(robot, d).base_lin_vel)
    rows["feet"].append(d.xpos[feet].copy())
    # Signed distance to the ground plane = height of the lowest point of each geom.
    rows["low"].append(
      np.array(
        [min(mujoco.mj_geomDistance(m, d, g, robot.ground_geom, 10.0, None) for g in gs) for gs in foot_geoms]
      )
    )
    rows["torso"].append(d.xquat[torso].copy())
  if len(rows["q"]) < 2:  # velocities and gait events need at least two frames
    raise DeployError(f"duration {duration_s} s leaves under two control steps after the {warmup_s} s warmup")
  dt = runtime.contract.step_dt
  feet_w = np.array(rows["feet"])
  return GaitTrajectory(
    dt=dt,
    joint_names=tuple(runtime.contract.joint_names),
    joint_pos=np.array(rows["q"]),
    base_pos_w=np.array(rows["pos"]),
    base_quat_wxyz=np.array(rows["quat"]),
    base_lin_vel_b=np.array(rows["vel"]),
    foot_pos_w=feet_w,
    foot_contact=foot_contact(np.array(rows["low"]), feet_w, dt, contact_height, contact_speed),
    torso_quat_wxyz=np.array(rows["torso"]) if torso >= 0 else None,
    name=str(folder),
  )
