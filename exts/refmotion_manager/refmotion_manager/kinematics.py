"""Forward kinematics of a clip through a MuJoCo model: body poses and velocities.

Joints of the model that the clip does not have (e.g. the wrists of a 23-DoF clip
on the 29-DoF G1) are held at the model's reference configuration qpos0.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from refmotion_manager import derivatives
from refmotion_manager.clip import MotionClip
from refmotion_manager.model import RobotModel


@dataclass(frozen=True)
class BodyStates:
  """World-frame states of named bodies over a clip; velocities at the body frame origin."""

  body_names: tuple[str, ...]
  pos: np.ndarray  # (T, B, 3)
  quat: np.ndarray  # (T, B, 4) w, x, y, z
  lin_vel: np.ndarray  # (T, B, 3)
  ang_vel: np.ndarray  # (T, B, 3)


def qpos_trajectory(clip: MotionClip, model: RobotModel) -> np.ndarray:
  """(T, nq) generalized positions: free joint (pos, quat wxyz) then the clip's joints."""
  cols = model.joint_columns(clip.joint_names, clip.source)
  qpos = np.tile(model.mj_model.qpos0, (clip.num_frames, 1))
  qpos[:, 0:3] = clip.root_pos
  qpos[:, 3:7] = clip.root_quat_wxyz
  qpos[:, model.joint_qpos_adr[cols]] = clip.joint_pos
  return qpos


def qvel_trajectory(clip: MotionClip, model: RobotModel) -> np.ndarray:
  """(T, nv) generalized velocities; MuJoCo's free joint wants world linear, local angular."""
  cols = model.joint_columns(clip.joint_names, clip.source)
  qvel = np.zeros((clip.num_frames, model.mj_model.nv))
  qvel[:, 0:3] = derivatives.root_lin_vel_w(clip)
  qvel[:, 3:6] = derivatives.root_ang_vel_b(clip)
  qvel[:, model.joint_dof_adr[cols]] = derivatives.joint_velocity(clip)
  return qvel


def body_states(clip: MotionClip, model: RobotModel, body_names: tuple[str, ...] | None = None) -> BodyStates:
  """Poses and velocities of `body_names` (default: all bodies) for every frame."""
  names = tuple(body_names) if body_names is not None else model.body_names
  ids = np.array([model.body_id(n) for n in names], dtype=np.int64)
  m = model.mj_model
  d = mujoco.MjData(m)
  qpos, qvel = qpos_trajectory(clip, model), qvel_trajectory(clip, model)
  t_count, b_count = clip.num_frames, len(names)
  pos, rot = np.zeros((t_count, b_count, 3)), np.zeros((t_count, b_count, 4))
  lin, ang = np.zeros((t_count, b_count, 3)), np.zeros((t_count, b_count, 3))
  vel6 = np.zeros(6)
  for t in range(t_count):
    d.qpos[:], d.qvel[:] = qpos[t], qvel[t]
    mujoco.mj_kinematics(m, d)
    mujoco.mj_comPos(m, d)
    mujoco.mj_comVel(m, d)
    pos[t], rot[t] = d.xpos[ids], d.xquat[ids]
    for k, bid in enumerate(ids):
      # mjOBJ_XBODY (not mjOBJ_BODY, the inertial frame): velocity of the body frame
      # origin; flg_local=0: expressed in world axes.
      mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_XBODY, int(bid), vel6, 0)
      ang[t, k], lin[t, k] = vel6[:3], vel6[3:]
  return BodyStates(names, pos, rot, lin, ang)


def with_body_poses(
  clip: MotionClip, model: RobotModel, body_names: tuple[str, ...] | None = None
) -> MotionClip:
  """Copy of the clip with body_names/body_pos/body_quat filled in by FK."""
  states = body_states(clip, model, body_names)
  return clip.replace(body_names=states.body_names, body_pos=states.pos, body_quat=states.quat)
