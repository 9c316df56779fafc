"""A SceneEntityCfg for terms that run every step: its resolved ids live on the device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from mjlab.managers.scene_entity_config import SceneEntityCfg

if TYPE_CHECKING:
  from mjlab.scene import Scene

_ID_FIELDS = ("joint_ids", "body_ids", "geom_ids", "site_ids", "actuator_ids", "tendon_ids")


@dataclass
class DeviceSceneEntityCfg(SceneEntityCfg):
  """SceneEntityCfg whose resolved id lists become tensors on the env's device.

  Indexing a GPU tensor with a Python list (``joint_pos[:, cfg.joint_ids]``) copies the
  list to the GPU and waits for the stream: one host sync per term call. With this cfg
  the ids are copied once, when the env is built; a term indexes with them unchanged.
  A selection of everything stays ``slice(None)``. Use it for terms that run every step
  (rewards, observations, step events); startup randomization may expect lists.
  """

  def resolve(self, scene: Scene) -> None:
    super().resolve(scene)
    for name in _ID_FIELDS:
      ids = getattr(self, name)
      if isinstance(ids, list):
        setattr(self, name, torch.tensor(ids, dtype=torch.long, device=scene.device))
