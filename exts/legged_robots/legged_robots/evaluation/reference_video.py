"""The reference motion as a translucent second robot in play's video.

The drawing is sim2mujoco's (``deploy.ghost.GhostRobot``, from the exported ``robot.xml``);
here it is posed, each video frame, at the reference frame that env 0's last action aimed
at (``MimicMetrics.target``):

- a command that starts from full clip states (whole-body tracking, ``init="full"``): the
  reference root pose as placed on the env, and every joint of the clip, so the ghost
  overlaps the robot where it tracks well;
- otherwise (mimic while walking): the robot's own root and joints, shifted ``side`` m to
  its left, with the mimicked joints set to the reference.
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import torch

from legged_robots.deploy.ghost import GhostRobot
from legged_robots.tasks.mdp.motion_command import MotionCommand


class ReferenceGhost:
  def __init__(self, motion: MotionCommand, mjcf: Path, side: float = 1.0, env_id: int = 0):
    self.motion, self.side, self.env_id = motion, side, env_id
    self.robot = GhostRobot(mjcf)
    m = self.robot.model
    free = [j for j in range(m.njnt) if m.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE]
    if len(free) != 1:
      raise ValueError(f"{mjcf}: the reference robot needs one free joint, found {len(free)}")
    self._root = int(m.jnt_qposadr[free[0]])
    names = motion.asset.joint_names
    missing = [n for n in names if mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, n) < 0]
    if missing:
      raise ValueError(f"{mjcf} lacks the robot's joints {missing}: re-export the policy")
    self._joints = np.array([m.jnt_qposadr[m.joint(n).id] for n in names])

  def qpos(self, reference: dict[str, torch.Tensor]) -> np.ndarray:
    """The ghost's generalized positions for ``reference`` (``MimicMetrics.target()``)."""
    e, data = self.env_id, self.motion.asset.data
    qpos = self.robot.model.qpos0.copy()
    r = self._root
    if self.motion.cfg.init == "full":
      qpos[r : r + 3] = reference["root_pos"][e].cpu().numpy()  # already moved onto the env
      qpos[r + 3 : r + 7] = reference["root_quat"][e].cpu().numpy()
      qpos[self._joints] = reference["joint_pos"][e].cpu().numpy()
      return qpos
    qpos[r : r + 3] = data.root_link_pos_w[e].cpu().numpy() + np.array([0.0, self.side, 0.0])
    qpos[r + 3 : r + 7] = data.root_link_quat_w[e].cpu().numpy()
    joints = data.joint_pos[e].clone()
    ids = self.motion.joint_ids
    joints[ids] = reference["joint_pos"][e, ids]
    qpos[self._joints] = joints.cpu().numpy()
    return qpos

  def drawer(self, reference: dict[str, torch.Tensor]):
    """A callback for ``rl.video.render_frame`` that draws the ghost at ``reference``."""

    def draw(scene: mujoco.MjvScene, option: mujoco.MjvOption) -> None:
      self.robot.set_qpos(self.qpos(reference))
      self.robot.add_to(scene, option)

    return draw
