"""Joint position action with a configurable actuation latency of 0..N control steps.

Real robots apply a policy's action one or two control periods late (inference,
communication, motor driver). Each env draws a latency at reset; the PD targets of
step t are those the policy produced at step t - latency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from mjlab.envs.mdp.actions import JointPositionAction, JointPositionActionCfg

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv


@dataclass(kw_only=True)
class DelayedJointPositionActionCfg(JointPositionActionCfg):
  """Joint position targets applied ``latency_steps`` control steps late."""

  latency_steps: tuple[int, int] = (0, 0)
  """Inclusive range (min, max) of the per-env latency in control steps, drawn at reset."""

  def build(self, env: ManagerBasedRlEnv) -> DelayedJointPositionAction:
    lo, hi = self.latency_steps
    if not 0 <= lo <= hi:
      raise ValueError(f"latency_steps must satisfy 0 <= min <= max, got {self.latency_steps}.")
    return DelayedJointPositionAction(self, env)


class DelayedJointPositionAction(JointPositionAction):
  """Keeps the last max_latency + 1 processed actions in a ring buffer."""

  cfg: DelayedJointPositionActionCfg

  def __init__(self, cfg: DelayedJointPositionActionCfg, env: ManagerBasedRlEnv):
    super().__init__(cfg=cfg, env=env)
    self._depth = cfg.latency_steps[1] + 1
    self._history = torch.zeros(self.num_envs, self._depth, self.action_dim, device=self.device)
    self._head = 0  # Slot of the newest action.
    self._latency = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
    self._env_idx = torch.arange(self.num_envs, device=self.device)
    self._fresh = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
    self.reset()

  @property
  def latency(self) -> torch.Tensor:
    """Current per-env latency in control steps, shape (num_envs,)."""
    return self._latency

  def process_actions(self, actions: torch.Tensor) -> None:
    super().process_actions(actions)
    self._head = (self._head + 1) % self._depth
    self._history[:, self._head] = self._processed_actions
    # After a reset there is no older command yet: fill the history with the first one
    # so the robot holds it instead of jumping to stale targets.
    # torch.where instead of boolean indexing: no host-device sync in the step.
    fresh = self._fresh.view(-1, 1, 1)
    self._history = torch.where(fresh, self._processed_actions.unsqueeze(1), self._history)
    self._fresh.zero_()
    slot = (self._head - self._latency) % self._depth
    self._processed_actions = self._history[self._env_idx, slot]

  def reset(self, env_ids: torch.Tensor | slice | None = None) -> None:
    super().reset(env_ids)
    ids = slice(None) if env_ids is None else env_ids
    lo, hi = self.cfg.latency_steps
    n = self.num_envs if isinstance(ids, slice) else len(ids)
    self._latency[ids] = torch.randint(lo, hi + 1, (n,), device=self.device)
    self._fresh[ids] = True
