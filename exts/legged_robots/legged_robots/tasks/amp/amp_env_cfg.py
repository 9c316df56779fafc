"""Base factory for AMP tasks: a velocity-tracking cfg turned into a style-rewarded one.

``make_amp_env_cfg(base, motion, ...)`` keeps the base task's scene, actions, commands,
events, rewards and terminations, and adds what AMP needs:

- ``motion``: the reference clips (``MotionDataCfg``), loaded once into the env;
- the ``amp`` observation group: ``amp_obs_frame_num`` consecutive control steps of style
  features (``mdp.amp_style_features``), no noise;
- ``reset_from_motion``: reference-state initialisation of a fraction of the resets
  (training only; play starts every env at the default pose, as velocity tasks do).

The style reward itself is computed by the AMP-PPO runner from the ``amp`` group; the
per-robot factory removes the hand-shaped gait terms the style reward replaces.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from mjlab.envs import ManagerBasedRlEnvCfg
from mjlab.managers.event_manager import EventTermCfg
from mjlab.managers.observation_manager import ObservationGroupCfg, ObservationTermCfg

from legged_robots.tasks.env import MotionEnvCfg
from legged_robots.tasks.mdp.amp import (
  AMP_GROUP,
  AMP_TERM,
  DEFAULT_STYLE_FIELDS,
  amp_style_features,
  reset_from_motion,
)
from legged_robots.tasks.motion import MotionDataCfg

RSI_EVENT = "reset_from_motion"


def make_amp_env_cfg(
  base: ManagerBasedRlEnvCfg,
  motion: MotionDataCfg | None,
  *,
  play: bool = False,
  amp_obs_frame_num: int = 2,
  style_fields: Sequence[str] = DEFAULT_STYLE_FIELDS,
  key_body_names: Sequence[str] = (),
  rsi_fraction: float = 0.5,
) -> MotionEnvCfg:
  """``base`` with reference motions, the ``amp`` group and reference-state init.

  ``motion`` None keeps the clips ``base`` already has (a mimic task: one clip set serves
  the style reward and the mimic goals)."""
  if amp_obs_frame_num < 2:
    raise ValueError(f"amp_obs_frame_num must be >= 2 (a transition), got {amp_obs_frame_num}")
  fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(base) if f.init}
  motion = motion if motion is not None else fields.get("motion")
  if motion is None:
    raise ValueError("make_amp_env_cfg: give the reference motions (base has none)")
  fields["motion"] = dataclasses.replace(motion, body_names=list(key_body_names))
  cfg = MotionEnvCfg(**fields)
  cfg.observations[AMP_GROUP] = ObservationGroupCfg(
    terms={
      AMP_TERM: ObservationTermCfg(
        func=amp_style_features,
        params={"fields": tuple(style_fields), "key_body_names": tuple(key_body_names)},
        history_length=amp_obs_frame_num,
      )
    },
    concatenate_terms=True,
    enable_corruption=False,
  )
  if not play:
    cfg.events[RSI_EVENT] = EventTermCfg(
      func=reset_from_motion, mode="reset", params={"fraction": rsi_fraction}
    )
  return cfg
