"""Turn a motion of the catalogue into a clip: per frame, set the pelvis and scripted
joints, then solve legs (foot poses) and arms (hand positions) by IK, warm-started from
the previous frame. Deterministic: same model, motion, fps and duration -> same clip."""

from __future__ import annotations

import mujoco
import numpy as np

from refmotion_manager.clip import MotionClip
from refmotion_manager.contact import collision_geoms, geom_bottom
from refmotion_manager.model import RobotModel
from refmotion_manager.synth.ik import DifferentialIK, Target
from refmotion_manager.synth.motions import CATALOGUE, FEET, HANDS, LEFT, FrameGoal

LEG_JOINTS = tuple(
  f"{side}_{j}_joint"
  for side in ("left", "right")
  for j in ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll")
)
ARM_IK_JOINTS = ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow")
# Start the legs from mjlab's knees-bent G1 keyframe so the first IK solve is easy.
_KNEES_BENT = {"hip_pitch": -0.312, "knee": 0.669, "ankle_pitch": -0.363}
MAX_IK_ERROR = 1e-3  # m / rad; larger means the motion asked for an unreachable pose


def ankle_height(model: RobotModel, foot: str = FEET[LEFT]) -> float:
  """Height of the foot body origin above the lowest point of its collision geoms,
  with all joints at zero (the sole flat)."""
  m = model.mj_model
  d = mujoco.MjData(m)
  d.qpos[:] = m.qpos0
  mujoco.mj_kinematics(m, d)
  bid = model.body_id(foot)
  return float(d.xpos[bid, 2] - min(geom_bottom(m, d, g) for g in collision_geoms(model, foot)))


def _arm_joints(site: str) -> tuple[str, ...]:
  prefix = "left" if site == HANDS[LEFT] else "right"
  return tuple(f"{prefix}_{j}_joint" for j in ARM_IK_JOINTS)


def _initial_qpos(model: RobotModel) -> np.ndarray:
  qpos = model.mj_model.qpos0.copy()
  for name, adr in zip(model.joint_names, model.joint_qpos_adr, strict=True):
    for key, value in _KNEES_BENT.items():
      if name.endswith(f"{key}_joint"):
        qpos[adr] = value
  return qpos


def _targets(goal: FrameGoal, ik: DifferentialIK, qpos: np.ndarray) -> list[Target]:
  targets = [Target(body, pos, q) for body, (pos, q) in goal.feet.items()]
  if goal.hands:
    torso_pos, torso_quat = ik.frame_pose(qpos, "torso_link")
    rot = np.zeros(9)
    mujoco.mju_quat2Mat(rot, torso_quat)
    for site, local in goal.hands.items():
      targets.append(Target(site, torso_pos + rot.reshape(3, 3) @ local, is_site=True))
  return targets


def synthesize(name: str, model: RobotModel, fps: float = 50.0, duration: float | None = None) -> MotionClip:
  if name not in CATALOGUE:
    raise KeyError(f"unknown motion '{name}'; available: {sorted(CATALOGUE)}")
  spec = CATALOGUE[name]
  duration = spec.duration if duration is None else duration
  count = round(duration * fps) + 1
  ankle_h = ankle_height(model)
  first = spec.goal(0.0, ankle_h)
  active = LEG_JOINTS + tuple(j for site in first.hands for j in _arm_joints(site))
  ik = DifferentialIK(model, active)
  index = dict(zip(model.joint_names, model.joint_qpos_adr, strict=True))
  qpos = _initial_qpos(model)
  frames = np.zeros((count, model.mj_model.nq))
  for t in range(count):
    goal = spec.goal(t / fps, ankle_h)
    qpos[0:3], qpos[3:7] = goal.root_pos, goal.root_quat
    for joint, value in goal.joints.items():
      qpos[index[joint]] = value
    qpos, err = ik.solve(qpos, _targets(goal, ik, qpos))
    if err > MAX_IK_ERROR:
      raise RuntimeError(
        f"motion '{name}' frame {t}: IK residual {err:.2e} — a target is "
        "out of reach; change the motion's parameters"
      )
    frames[t] = qpos
  return MotionClip(
    fps=fps,
    joint_names=model.joint_names,
    root_pos=frames[:, 0:3],
    root_quat_wxyz=frames[:, 3:7],
    joint_pos=frames[:, model.joint_qpos_adr],
    metadata={
      "name": name,
      "description": spec.description,
      "synthetic": True,
      "generator": "refmotion_manager.synth (differential IK on the MJCF)",
      "robot_mjcf": model.path.name,
      "duration_s": duration,
    },
  )
