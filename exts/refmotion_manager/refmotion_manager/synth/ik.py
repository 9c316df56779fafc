"""Damped-least-squares differential IK on a MuJoCo model (no IK library needed).

Each iteration solves  dq = J^T (J J^T + lambda^2 I)^-1 e  for the stacked task errors e
(position error, and rotation error log(q_target ⊗ q_current*) for orientation tasks),
then clamps to the joint limits. Warm-starting from the previous frame keeps the
solution continuous and the whole generator deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from refmotion_manager import quat
from refmotion_manager.model import RobotModel


@dataclass(frozen=True)
class Target:
  """Place a body origin (or a site) at `pos`, optionally with orientation `quat_wxyz`."""

  name: str
  pos: np.ndarray
  quat_wxyz: np.ndarray | None = None
  is_site: bool = False


class DifferentialIK:
  def __init__(
    self,
    model: RobotModel,
    active_joints: tuple[str, ...],
    damping: float = 1e-3,
    iterations: int = 60,
    tolerance: float = 1e-7,
  ) -> None:
    self.model = model
    self.data = mujoco.MjData(model.mj_model)
    cols = model.joint_columns(active_joints, None)
    self.qpos_adr = model.joint_qpos_adr[cols]
    self.dof_adr = model.joint_dof_adr[cols]
    self.limits = model.joint_limits[cols]
    self.damping, self.iterations, self.tolerance = damping, iterations, tolerance

  def _forward(self, qpos: np.ndarray) -> None:
    self.data.qpos[:] = qpos
    mujoco.mj_kinematics(self.model.mj_model, self.data)
    mujoco.mj_comPos(self.model.mj_model, self.data)

  def frame_pose(self, qpos: np.ndarray, body: str) -> tuple[np.ndarray, np.ndarray]:
    """World position and orientation of a body at configuration qpos."""
    self._forward(qpos)
    bid = self.model.body_id(body)
    return self.data.xpos[bid].copy(), self.data.xquat[bid].copy()

  def _errors(self, targets: list[Target]) -> tuple[np.ndarray, np.ndarray]:
    m, d = self.model.mj_model, self.data
    rows, errs = [], []
    jacp, jacr = np.zeros((3, m.nv)), np.zeros((3, m.nv))
    for tgt in targets:
      if tgt.is_site:
        sid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, tgt.name)
        mujoco.mj_jacSite(m, d, jacp, jacr, sid)
        pos = d.site_xpos[sid]
        cur = np.empty(4)
        mujoco.mju_mat2Quat(cur, d.site_xmat[sid])
      else:
        bid = self.model.body_id(tgt.name)
        mujoco.mj_jacBody(m, d, jacp, jacr, bid)
        pos, cur = d.xpos[bid], d.xquat[bid]
      rows.append(jacp[:, self.dof_adr].copy())
      errs.append(tgt.pos - pos)
      if tgt.quat_wxyz is not None:
        rows.append(jacr[:, self.dof_adr].copy())
        errs.append(quat.to_axis_angle(quat.multiply(tgt.quat_wxyz, quat.conjugate(cur))))
    return np.concatenate(rows), np.concatenate(errs)

  def solve(self, qpos: np.ndarray, targets: list[Target]) -> tuple[np.ndarray, float]:
    """Move the active joints of `qpos` toward the targets; returns (qpos, max error)."""
    q = qpos.copy()
    err = np.zeros(1)
    for _ in range(self.iterations):
      self._forward(q)
      jac, err = self._errors(targets)
      if np.max(np.abs(err)) < self.tolerance:
        break
      lhs = jac @ jac.T + self.damping**2 * np.eye(jac.shape[0])
      dq = jac.T @ np.linalg.solve(lhs, err)
      q[self.qpos_adr] = np.clip(q[self.qpos_adr] + dq, self.limits[:, 0], self.limits[:, 1])
    self._forward(q)
    _, err = self._errors(targets)
    return q, float(np.max(np.abs(err)))
