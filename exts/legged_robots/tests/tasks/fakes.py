"""Small stand-ins for an mjlab env: just the attributes a term reads."""

from __future__ import annotations

from types import SimpleNamespace

import torch
from mjlab.managers.scene_entity_config import SceneEntityCfg


def fake_env(**scene) -> SimpleNamespace:
  """An env whose ``scene[name]`` returns the given objects."""
  return SimpleNamespace(scene=scene, num_envs=None, device="cpu")


def with_command(env: SimpleNamespace, command: torch.Tensor) -> SimpleNamespace:
  env.command_manager = SimpleNamespace(get_command=lambda name: command)
  return env


def robot(**data) -> SimpleNamespace:
  return SimpleNamespace(data=SimpleNamespace(**data))


def contact_sensor(**data) -> SimpleNamespace:
  return SimpleNamespace(data=SimpleNamespace(**data))


def asset_cfg(**ids) -> SceneEntityCfg:
  """A resolved SceneEntityCfg for 'robot' with explicit index lists."""
  cfg = SceneEntityCfg("robot")
  for name, value in ids.items():
    setattr(cfg, name, value)
  return cfg
