"""Event terms st_gym adds to mjlab's domain randomization."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from mjlab.envs.mdp.dr._core import _randomize_model_field
from mjlab.managers.event_manager import requires_model_fields
from mjlab.managers.scene_entity_config import SceneEntityCfg

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv

_ROBOT = SceneEntityCfg("robot")


@requires_model_fields("geom_solref")
def geom_restitution(
  env: ManagerBasedRlEnv,
  env_ids: torch.Tensor | None,
  dampratio_range: tuple[float, float],
  asset_cfg: SceneEntityCfg = _ROBOT,
) -> None:
  """Randomize contact bounciness through the damping ratio of the geoms' solref.

  MuJoCo has no restitution coefficient: a soft contact is a mass-spring-damper with
  solref = (timeconst, dampratio). dampratio 1 is critically damped (no bounce); values
  below 1 let the contact rebound, which is how restitution is randomized here.
  """
  _randomize_model_field(
    env,
    env_ids,
    "geom_solref",
    entity_type="geom",
    ranges=dampratio_range,
    operation="abs",
    asset_cfg=asset_cfg,
    axes=[1],
    default_axes=[1],
    valid_axes=[0, 1],
  )
