# Isaac Lab 3 needs Python 3.12; the 3.11 dev venv cannot hold it, so pyright cannot see it.
# pyright: reportMissingImports=false
"""Unitree G1 (29 DoF) for Isaac Lab: mjlab's MJCF by path, mjlab's actuator constants.

The Isaac Lab env cannot import mjlab (other mujoco / mujoco-warp / warp pins), so the G1
constants of mjlab 1.6.0 (``asset_zoo/robots/unitree_g1/g1_constants.py``) are restated here
from their sources (rotor inertias, gear ratios, effort and speed limits) and evaluated the
same way: armature = reflected inertia of a two-stage planetary gearbox; stiffness =
armature * (2 pi 10 Hz)^2, damping = 2 * 2.0 * armature * (2 pi 10 Hz): each joint a 10 Hz
oscillator with damping ratio 2. Joint order in the articulation is the MJCF's (mjlab's).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

G1_XML_ENV = "STGYM_G1_XML"
"""Environment variable naming mjlab's ``g1.xml`` (its meshes in ``assets/`` beside it)."""
G1_USD_DIR_ENV = "STGYM_G1_USD_DIR"
"""Environment variable naming the folder for the MJCF -> USD conversion (default below)."""
DEFAULT_USD_DIR = "/tmp/stgym_isaaclab/g1_usd"

NATURAL_FREQ = 10 * 2.0 * 3.1415926535  # 10 Hz, mjlab's constant (same truncated pi)
DAMPING_RATIO = 2.0


def reflected_inertia(rotor: tuple[float, float, float], gears: tuple[float, float, float]) -> float:
  """Armature [kg m^2] of a motor behind a two-stage planetary gearbox (gears[0] == 1)."""
  return rotor[0] * (gears[1] * gears[2]) ** 2 + rotor[1] * gears[2] ** 2 + rotor[2]


@dataclass(frozen=True)
class Motor:
  """One Unitree motor type: reflected inertia, speed and torque limits."""

  armature: float
  velocity_limit: float
  effort_limit: float


MOTOR_5020 = Motor(
  reflected_inertia((0.139e-4, 0.017e-4, 0.169e-4), (1, 1 + 46 / 18, 1 + 56 / 16)), 37.0, 25.0
)
MOTOR_7520_14 = Motor(reflected_inertia((0.489e-4, 0.098e-4, 0.533e-4), (1, 4.5, 1 + 48 / 22)), 32.0, 88.0)
MOTOR_7520_22 = Motor(reflected_inertia((0.489e-4, 0.109e-4, 0.738e-4), (1, 4.5, 5)), 20.0, 139.0)
MOTOR_4010 = Motor(reflected_inertia((0.068e-4, 0.0, 0.0), (1, 5, 5)), 22.0, 5.0)


@dataclass(frozen=True)
class ActuatorGroup:
  """Joints driven by ``count`` motors of one type (waist and ankles: two 5020 in parallel)."""

  joints: tuple[str, ...]
  motor: Motor
  count: int = 1

  @property
  def armature(self) -> float:
    return self.motor.armature * self.count

  @property
  def stiffness(self) -> float:
    return self.armature * NATURAL_FREQ**2

  @property
  def damping(self) -> float:
    return 2.0 * DAMPING_RATIO * self.armature * NATURAL_FREQ

  @property
  def effort_limit(self) -> float:
    return self.motor.effort_limit * self.count


G1_ACTUATORS: dict[str, ActuatorGroup] = {
  "5020": ActuatorGroup(
    (
      ".*_elbow_joint",
      ".*_shoulder_pitch_joint",
      ".*_shoulder_roll_joint",
      ".*_shoulder_yaw_joint",
      ".*_wrist_roll_joint",
    ),
    MOTOR_5020,
  ),
  "7520_14": ActuatorGroup((".*_hip_pitch_joint", ".*_hip_yaw_joint", "waist_yaw_joint"), MOTOR_7520_14),
  "7520_22": ActuatorGroup((".*_hip_roll_joint", ".*_knee_joint"), MOTOR_7520_22),
  "4010": ActuatorGroup((".*_wrist_pitch_joint", ".*_wrist_yaw_joint"), MOTOR_4010),
  "waist": ActuatorGroup(("waist_pitch_joint", "waist_roll_joint"), MOTOR_5020, 2),
  "ankle": ActuatorGroup((".*_ankle_pitch_joint", ".*_ankle_roll_joint"), MOTOR_5020, 2),
}
"""mjlab's G1 actuator groups, in mjlab's order."""

# mjlab's KNEES_BENT_KEYFRAME: pelvis height [m] and joint positions [rad].
G1_INIT_HEIGHT = 0.76
G1_INIT_JOINT_POS = {
  ".*_hip_pitch_joint": -0.312,
  ".*_knee_joint": 0.669,
  ".*_ankle_pitch_joint": -0.363,
  ".*_elbow_joint": 0.6,
  "left_shoulder_roll_joint": 0.2,
  "left_shoulder_pitch_joint": 0.2,
  "right_shoulder_roll_joint": -0.2,
  "right_shoulder_pitch_joint": 0.2,
}
SOFT_JOINT_POS_LIMIT_FACTOR = 0.9
FEET_BODIES = ("left_ankle_roll_link", "right_ankle_roll_link")
TORSO_BODY = "torso_link"
BASE_BODY = "pelvis"
# Bodies whose ground contact is a stumble or a fall (st_gym's Flat-G1: everything above the
# ankles that has collision geoms).
UNDESIRED_BODIES = (
  r"^(pelvis|torso_link|.*_hip_(roll|yaw)_link|.*_knee_link|.*_shoulder_yaw_link|.*_elbow_link)$"
)


def g1_action_scale() -> dict[str, float]:
  """Per-joint action scale 0.25 * effort_limit / stiffness (mjlab's G1 choice)."""
  return {
    expr: 0.25 * group.effort_limit / group.stiffness
    for group in G1_ACTUATORS.values()
    for expr in group.joints
  }


def g1_velocity_limits() -> dict[str, float]:
  """Joint pattern -> motor speed limit [rad/s] (Unitree's specs)."""
  return {expr: group.motor.velocity_limit for group in G1_ACTUATORS.values() for expr in group.joints}


def g1_effort_limits() -> dict[str, float]:
  """Joint pattern -> actuator effort limit [N m]."""
  return {expr: group.effort_limit for group in G1_ACTUATORS.values() for expr in group.joints}


def g1_xml_path() -> Path:
  """mjlab's g1.xml from ``$STGYM_G1_XML``; a clear error when unset or missing."""
  value = os.environ.get(G1_XML_ENV)
  if not value or not Path(value).is_file():
    raise FileNotFoundError(
      f"${G1_XML_ENV}={value!r} is not a file: set it to mjlab's G1 MJCF (mjlab 1.6.0 "
      "asset_zoo/robots/unitree_g1/xmls/g1.xml, meshes in assets/ beside it; on the GPU machine "
      "/tmp/il_g1/g1.xml from .bundle_il/g1)."
    )
  return Path(value).resolve()


def g1_articulation_cfg():
  """The G1 ArticulationCfg: MJCF spawner, implicit PD actuators with mjlab's gains."""
  import isaaclab.sim as sim_utils
  from isaaclab.actuators import ImplicitActuatorCfg
  from isaaclab.assets import ArticulationCfg
  from isaaclab_newton.sim.schemas import NewtonArticulationCfg

  return ArticulationCfg(
    prim_path="{ENV_REGEX_NS}/Robot",
    spawn=sim_utils.MjcfFileCfg(
      asset_path=str(g1_xml_path()),
      usd_dir=os.environ.get(G1_USD_DIR_ENV, DEFAULT_USD_DIR),
      fix_base=False,
      self_collision=False,
      import_physics_scene=False,
      articulation_props=[NewtonArticulationCfg(self_collision_enabled=False)],
    ),
    init_state=ArticulationCfg.InitialStateCfg(
      pos=(0.0, 0.0, G1_INIT_HEIGHT), joint_pos=G1_INIT_JOINT_POS, joint_vel={".*": 0.0}
    ),
    soft_joint_pos_limit_factor=SOFT_JOINT_POS_LIMIT_FACTOR,
    actuators={
      name: ImplicitActuatorCfg(
        joint_names_expr=list(group.joints),
        stiffness=group.stiffness,
        damping=group.damping,
        joint_effort_limit=group.effort_limit,
        armature=group.armature,
      )
      for name, group in G1_ACTUATORS.items()
    },
  )
