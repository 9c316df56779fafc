"""Curriculum terms: linear reward-weight schedules (st_gym overview, table 3.3) and the
terrain curriculum without host syncs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from mjlab.managers.scene_entity_config import SceneEntityCfg

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv
  from mjlab.managers.curriculum_manager import CurriculumTermCfg

_ROBOT = SceneEntityCfg("robot")


class reward_weight_linear:
  """Move a reward term's weight linearly from its initial value to ``weight``.

  w(t) = w0 + (weight - w0) * min(t / num_steps, 1), with t the env's
  ``common_step_counter`` (control steps since training began; one PPO iteration is
  ``num_steps_per_env`` of them). Regularizers that start small let the policy first
  learn to stand and walk, then tighten.
  """

  def __init__(self, cfg: CurriculumTermCfg, env: ManagerBasedRlEnv):
    name = cfg.params["term_name"]
    if name not in env.reward_manager.active_terms:
      raise ValueError(
        f"Curriculum targets reward term '{name}', which is not active. "
        f"Active reward terms: {env.reward_manager.active_terms}."
      )
    if cfg.params["num_steps"] <= 0:
      raise ValueError(f"num_steps must be positive, got {cfg.params['num_steps']}.")
    self._term_cfg = env.reward_manager.get_term_cfg(name)
    self._initial = float(self._term_cfg.weight)

  def __call__(
    self,
    env: ManagerBasedRlEnv,
    env_ids: torch.Tensor,
    term_name: str,
    weight: float,
    num_steps: int,
  ) -> float:
    """Set and return the current weight (a float: the curriculum manager logs it as is,
    where a tensor would cost a tensor op and an ``.item()`` on every reset)."""
    del env_ids, term_name
    progress = min(env.common_step_counter / num_steps, 1.0)
    self._term_cfg.weight = self._initial + (weight - self._initial) * progress
    return self._term_cfg.weight


def terrain_levels_vel(
  env: ManagerBasedRlEnv, env_ids: torch.Tensor, command_name: str, asset_cfg: SceneEntityCfg = _ROBOT
) -> dict[str, torch.Tensor]:
  """mjlab's terrain curriculum; per-type mean levels by scatter-add, without host syncs.

  An env that walked more than half a tile moves one level up; one that walked less than
  half the distance its command asked for moves down (levels freeze on the very first
  reset). mjlab's version averages each terrain type with ``if mask.any()`` and a masked
  mean, two syncs per type on every reset; here a type without envs reports level 0.
  """
  terrain = env.scene.terrain
  assert terrain is not None and terrain.terrain_origins is not None
  generator = terrain.cfg.terrain_generator
  assert generator is not None
  command = env.command_manager.get_command(command_name)
  assert command is not None
  root_xy = env.scene[asset_cfg.name].data.root_link_pos_w[env_ids, :2]
  walked = torch.norm(root_xy - env.scene.env_origins[env_ids, :2], dim=1)
  asked = torch.norm(command[env_ids, :2], dim=1) * env.max_episode_length_s
  move_up = walked > generator.size[0] / 2
  move_down = (walked < 0.5 * asked) & ~move_up
  if env.common_step_counter == 0:  # Spawn pose, not a walked distance.
    move_up, move_down = torch.zeros_like(move_up), torch.zeros_like(move_down)
  terrain.update_env_origins(env_ids, move_up, move_down)
  levels = terrain.terrain_levels.float()
  stats = {"mean": levels.mean(), "max": levels.max()}
  names = list(generator.sub_terrains)
  if terrain.terrain_origins.shape[1] == len(names):  # Curriculum: one column per type.
    types = terrain.terrain_types
    sums = torch.zeros(len(names), device=levels.device).index_add_(0, types, levels)
    counts = torch.zeros(len(names), device=levels.device).index_add_(0, types, torch.ones_like(levels))
    stats.update(zip(names, (sums / counts.clamp(min=1.0)).unbind(), strict=True))
  return stats
