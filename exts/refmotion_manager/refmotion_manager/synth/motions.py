"""The G1 motion catalogue: for each motion, what the robot should do at time t.

A motion is a function t -> FrameGoal: the pelvis pose, directly set joints (waist,
arm swing), foot poses and hand positions; `generate.py` turns goals into joint angles
by IK. Hand targets are given in the torso frame so they follow the upper body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from refmotion_manager import quat
from refmotion_manager.synth.gait import GaitParams, foot_at, pelvis_xy_yaw, phase

LEFT, RIGHT = 1, -1
FEET = {LEFT: "left_ankle_roll_link", RIGHT: "right_ankle_roll_link"}
HANDS = {LEFT: "left_palm", RIGHT: "right_palm"}
# The G1's relaxed arm posture (mjlab's knees-bent keyframe): slightly back, out, elbows bent.
ARM_REST = {"shoulder_pitch": 0.2, "shoulder_roll": 0.2, "elbow": 0.6}


@dataclass
class FrameGoal:
  root_pos: np.ndarray
  root_quat: np.ndarray
  joints: dict[str, float] = field(default_factory=dict)
  feet: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
  """Foot body -> (world position of its origin, world orientation)."""
  hands: dict[str, np.ndarray] = field(default_factory=dict)
  """Palm site -> position in the torso_link frame."""


def arm_joints(
  side: int,
  pitch: float = 0.0,
  roll: float = 0.0,
  elbow: float = 0.0,
) -> dict[str, float]:
  prefix = "left" if side == LEFT else "right"
  return {
    f"{prefix}_shoulder_pitch_joint": ARM_REST["shoulder_pitch"] + pitch,
    f"{prefix}_shoulder_roll_joint": side * (ARM_REST["shoulder_roll"] + roll),
    f"{prefix}_elbow_joint": ARM_REST["elbow"] + elbow,
  }


def _foot(xy: np.ndarray, yaw: float, lift: float, pitch: float, ankle_h: float):
  return np.array([xy[0], xy[1], ankle_h + lift]), quat.from_euler_xyz(0.0, pitch, yaw)


def walk(
  speed: float, yaw_rate: float, step_time: float, pelvis_z: float, **gait: float
) -> Callable[[float, float], FrameGoal]:
  p = GaitParams(speed=speed, yaw_rate=yaw_rate, step_time=step_time, **gait)

  def goal(t: float, ankle_h: float) -> FrameGoal:
    phi = phase(t, p)
    xy, yaw = pelvis_xy_yaw(t, p)
    # Sway toward the stance foot (right in even steps) and bob twice per cycle.
    sway = -0.02 * np.sin(phi)
    pos = np.array(
      [xy[0] - sway * np.sin(yaw), xy[1] + sway * np.cos(yaw), pelvis_z + 0.008 * np.cos(2.0 * phi)]
    )
    lean = 0.04 + 0.05 * speed  # forward lean grows with speed
    swing = 0.15 + 0.25 * speed
    joints = {
      "waist_yaw_joint": -0.08 * np.cos(phi),
      "waist_roll_joint": 0.0,
      "waist_pitch_joint": 0.0,
      **arm_joints(LEFT, pitch=-swing * np.cos(phi)),
      **arm_joints(RIGHT, pitch=swing * np.cos(phi)),
    }
    feet = {FEET[s]: _foot(*foot_at(t, s, p), ankle_h) for s in (LEFT, RIGHT)}
    return FrameGoal(pos, quat.from_euler_xyz(0.0, lean, float(yaw)), joints, feet)

  return goal


def _standing_feet(ankle_h: float, half_width: float = 0.1185) -> dict:
  return {FEET[s]: _foot(np.array([0.0, s * half_width]), 0.0, 0.0, 0.0, ankle_h) for s in (LEFT, RIGHT)}


def squat(period: float, depth: float) -> Callable[[float, float], FrameGoal]:
  def goal(t: float, ankle_h: float) -> FrameGoal:
    s = 0.5 - 0.5 * np.cos(2.0 * np.pi * t / period)  # 0 standing -> 1 deepest -> 0
    pos = np.array([-0.06 * s, 0.0, 0.76 - depth * s])
    joints = {
      "waist_yaw_joint": 0.0,
      "waist_roll_joint": 0.0,
      "waist_pitch_joint": 0.25 * s,
      **arm_joints(LEFT, pitch=-1.2 * s, roll=-0.1 * s, elbow=-0.4 * s),
      **arm_joints(RIGHT, pitch=-1.2 * s, roll=-0.1 * s, elbow=-0.4 * s),
    }
    return FrameGoal(pos, quat.from_euler_xyz(0.0, 0.3 * s, 0.0), joints, _standing_feet(ankle_h))

  return goal


def arm_wave(frequency: float) -> Callable[[float, float], FrameGoal]:
  def goal(t: float, ankle_h: float) -> FrameGoal:
    raise_s = min(t / 0.6, 1.0)  # lift the hand during the first 0.6 s
    raise_s = raise_s * raise_s * (3.0 - 2.0 * raise_s)
    wave = np.sin(2.0 * np.pi * frequency * t) * raise_s
    joints = {
      "waist_yaw_joint": 0.05 * wave,
      "waist_roll_joint": 0.0,
      "waist_pitch_joint": 0.0,
      **arm_joints(LEFT),
    }
    rest = np.array([0.20, -0.20, -0.05])
    up = np.array([0.10, -0.30 + 0.10 * wave, 0.50])
    hands = {HANDS[RIGHT]: rest + raise_s * (up - rest)}
    return FrameGoal(np.array([0.0, 0.0, 0.76]), quat.from_yaw(0.0), joints, _standing_feet(ankle_h), hands)

  return goal


def dance(beat_hz: float) -> Callable[[float, float], FrameGoal]:
  def goal(t: float, ankle_h: float) -> FrameGoal:
    w = 2.0 * np.pi * beat_hz
    sway = 0.045 * np.sin(0.5 * w * t)
    pos = np.array([0.0, sway, 0.73 + 0.025 * np.cos(w * t)])
    yaw = 0.25 * np.sin(0.25 * w * t)
    joints = {
      "waist_yaw_joint": -0.35 * np.sin(0.25 * w * t),
      "waist_roll_joint": -0.6 * sway / 0.045 * 0.15,
      "waist_pitch_joint": 0.05,
    }
    # Hands trace opposite circles in front of the chest.
    a = 0.5 * w * t
    hands = {
      HANDS[s]: np.array(
        [0.28 + 0.06 * np.cos(a), s * (0.20 + 0.07 * np.sin(s * a)), 0.18 + 0.12 * np.sin(a)]
      )
      for s in (LEFT, RIGHT)
    }
    return FrameGoal(pos, quat.from_yaw(yaw), joints, _standing_feet(ankle_h, 0.14), hands)

  return goal


@dataclass(frozen=True)
class MotionSpec:
  name: str
  duration: float
  description: str
  goal: Callable[[float, float], FrameGoal]


# Durations are whole gait cycles (2 step times) so walking clips loop with `loop()`.
CATALOGUE: dict[str, MotionSpec] = {
  s.name: s
  for s in (
    MotionSpec("walk_slow", 3.6, "walk straight at 0.4 m/s, 0.45 s steps", walk(0.4, 0.0, 0.45, 0.75)),
    MotionSpec("walk", 4.0, "walk straight at 0.8 m/s, 0.4 s steps", walk(0.8, 0.0, 0.4, 0.74)),
    MotionSpec("walk_fast", 4.2, "walk straight at 1.1 m/s, 0.3 s steps", walk(1.1, 0.0, 0.3, 0.73)),
    MotionSpec("turn_in_place", 4.0, "step in place turning left at 0.8 rad/s", walk(0.0, 0.8, 0.4, 0.75)),
    MotionSpec("walk_turn", 4.0, "walk at 0.5 m/s turning left at 0.5 rad/s", walk(0.5, 0.5, 0.4, 0.74)),
    MotionSpec("squat", 4.0, "two squats, pelvis 0.76 m -> 0.50 m", squat(2.0, 0.26)),
    MotionSpec("arm_wave", 4.0, "stand and wave the right hand at 1.5 Hz", arm_wave(1.5)),
    MotionSpec("dance", 4.0, "bounce, sway, twist and circle both hands (2 beats/s)", dance(2.0)),
  )
}
