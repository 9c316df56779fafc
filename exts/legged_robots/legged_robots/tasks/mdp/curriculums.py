"""Curriculum terms: linear reward-weight schedules (st_gym overview, table 3.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv
  from mjlab.managers.curriculum_manager import CurriculumTermCfg


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
