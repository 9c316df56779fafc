"""Unitree G1 AMP tasks: the G1 velocity tasks with a style reward from reference clips.

Default style data: the shipped synthetic G1 walking clips (``refmotion_manager``'s
``data/``), so a fresh clone trains; real clips by override, e.g.
``env.motion.files=[/path/to/g1_amp_locomotion] env.motion.csv_fps=120``.
"""

from __future__ import annotations

from typing import Literal

from mjlab.envs import ManagerBasedRlEnvCfg

from legged_robots.tasks.amp import make_amp_env_cfg
from legged_robots.tasks.config.g1.env_cfgs import g1_rough_env_cfg
from legged_robots.tasks.config.g1.mimic_env_cfgs import g1_mimic_env_cfg
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


def _drop_gait_terms(cfg: ManagerBasedRlEnvCfg) -> None:
  for term in _GAIT_TERMS:
    cfg.rewards.pop(term, None)
    cfg.curriculum.pop(f"{term}_schedule", None)


def g1_amp_env_cfg(play: bool = False, num_joints: Literal[29, 23] = 29, rough: bool = False) -> MotionEnvCfg:
  """G1 velocity tracking with an AMP style reward (flat by default)."""
  base = g1_rough_env_cfg(play=play, num_joints=num_joints, rough=rough)
  _drop_gait_terms(base)
  return make_amp_env_cfg(base, default_motion(), play=play)


def g1_amp_mimic_env_cfg(play: bool = False, num_joints: Literal[29, 23] = 29) -> MotionEnvCfg:
  """st_gym's AmpMimic: velocity tracking, a style reward and upper-body mimic of one clip set.

  The walking clips serve both: the discriminator judges the whole body's style, the
  mimic rewards pull the waist and arms to the clip's frame (its arm swing)."""
  base = g1_mimic_env_cfg(play=play, num_joints=num_joints)
  base.motion = default_motion()
  _drop_gait_terms(base)
  return make_amp_env_cfg(base, None, play=play)


def g1_amp_rough_env_cfg(play: bool = False, num_joints: Literal[29, 23] = 29) -> MotionEnvCfg:
  return g1_amp_env_cfg(play=play, num_joints=num_joints, rough=True)
