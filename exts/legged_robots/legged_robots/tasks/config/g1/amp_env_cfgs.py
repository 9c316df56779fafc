"""Unitree G1 AMP tasks: the G1 velocity tasks with a style reward from reference clips.

Default style data: the shipped synthetic G1 walking clips (``refmotion_manager``'s
``data/``), so a fresh clone trains; real clips by override, e.g.
``env.motion.files=[/path/to/g1_amp_locomotion] env.motion.csv_fps=120``.
"""

from __future__ import annotations

from typing import Literal

from legged_robots.tasks.amp import make_amp_env_cfg
from legged_robots.tasks.config.g1.env_cfgs import g1_rough_env_cfg
from legged_robots.tasks.env import MotionEnvCfg
from legged_robots.tasks.motion import MotionDataCfg
from refmotion_manager import data_path

DEFAULT_CLIPS = ("g1_walk_slow", "g1_walk", "g1_walk_fast", "g1_walk_turn", "g1_turn_in_place")
# Hand-shaped gait terms the style reward replaces (and their weight schedules).
_GAIT_TERMS = (
  "feet_air_time",
  "joint_deviation",
  "feet_parallel",
  "feet_stumble",
  "energy_cost",
  "action_smoothness_2",
)


def default_motion() -> MotionDataCfg:
  return MotionDataCfg(files=[str(data_path() / f"{name}.npz") for name in DEFAULT_CLIPS])


def g1_amp_env_cfg(play: bool = False, num_joints: Literal[29, 23] = 29, rough: bool = False) -> MotionEnvCfg:
  """G1 velocity tracking with an AMP style reward (flat by default)."""
  base = g1_rough_env_cfg(play=play, num_joints=num_joints, rough=rough)
  for term in _GAIT_TERMS:
    base.rewards.pop(term)
    base.curriculum.pop(f"{term}_schedule", None)
  return make_amp_env_cfg(base, default_motion(), play=play)


def g1_amp_rough_env_cfg(play: bool = False, num_joints: Literal[29, 23] = 29) -> MotionEnvCfg:
  return g1_amp_env_cfg(play=play, num_joints=num_joints, rough=True)
