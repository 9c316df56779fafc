"""A stand-in mjlab env for the skrl wrapper and agents: observation groups, actions, steps."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

GROUPS = {"actor": 5, "critic": 7, "amp": 4}
ACTIONS = 3


class FakeMjlabEnv:
  """Scripted env: group g holds ``step + (env index) / 10 + (group offset)``, one column per
  element, so a test can tell groups, envs and steps apart; env 0 times out at step 2."""

  def __init__(self, num_envs: int = 4, finite_horizon: bool = False):
    self.num_envs, self.device = num_envs, "cpu"
    self.observation_manager = SimpleNamespace(group_obs_dim={g: (n,) for g, n in GROUPS.items()})
    self.action_manager = SimpleNamespace(total_action_dim=ACTIONS)
    self.cfg = SimpleNamespace(is_finite_horizon=finite_horizon)
    self.episode_length_buf = torch.zeros(num_envs, dtype=torch.long)
    self.max_episode_length = 100
    self.common_step_counter = 0
    self.steps = 0
    self.received: list[torch.Tensor] = []

  @property
  def unwrapped(self) -> FakeMjlabEnv:
    return self

  def _obs(self) -> dict[str, torch.Tensor]:
    envs = torch.arange(self.num_envs, dtype=torch.float32).view(-1, 1) / 10
    return {g: (self.steps + envs + 100 * i).expand(-1, n).clone() for i, (g, n) in enumerate(GROUPS.items())}

  def reset(self):
    return self._obs(), {"log": {}}

  def step(self, actions: torch.Tensor):
    self.received.append(actions.clone())
    self.steps += 1
    reward = torch.full((self.num_envs,), float(self.steps))
    terminated = torch.zeros(self.num_envs, dtype=torch.bool)
    truncated = torch.zeros(self.num_envs, dtype=torch.bool)
    truncated[0] = self.steps == 2
    terminated[1] = self.steps == 3
    log = {"Episode_Reward/alive": torch.tensor(0.5)} if self.steps == 2 else {}
    return self._obs(), reward, terminated, truncated, {"log": log}

  def close(self) -> None:
    pass


@pytest.fixture
def fake_mjlab_env():
  return FakeMjlabEnv
