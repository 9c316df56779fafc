"""``SkrlVecEnvWrapper``: an mjlab env as skrl's torch vectorized env.

skrl 2.x agents take ``observations`` (the policy's input) and ``states`` (the critic's)
separately. Here they are two observation groups of the env, the ``actor`` and ``critic``
groups of every st_gym task. Shapes (N envs):

- ``reset() -> (observations (N, O), infos)``; ``state() -> (N, S)``;
- ``step(actions (N, A)) -> observations (N, O), reward (N, 1), terminated (N, 1) bool,
  truncated (N, 1) bool, infos``; ``infos["log"]`` holds the env's episode scalars and,
  with an AMP group, ``infos["amp_obs"]`` the AMP windows (N, W) after the step;
- ``collect_reference_motions(n) -> (n, W)`` expert windows from the task's clips.

Actions are clamped to ``[-clip_actions, clip_actions]`` before the env when set (rsl_rl's
``clip_actions``, deploy.yaml's ``action.raw_clip``). A finite-horizon task's time-outs are
terminations, as rsl_rl's wrapper treats them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from mjlab.envs import ManagerBasedRlEnv
from skrl.envs.wrappers.torch import Wrapper


def _box(size: int) -> gymnasium.spaces.Box:
  return gymnasium.spaces.Box(low=-np.inf, high=np.inf, shape=(size,), dtype=np.float32)


def group_size(env: ManagerBasedRlEnv, group: str) -> int:
  """Width of a concatenated observation group; names the groups that exist otherwise."""
  dims = env.observation_manager.group_obs_dim
  if group not in dims:
    raise KeyError(f"the env has no observation group '{group}'; groups: {sorted(dims)}")
  dim = dims[group]
  assert isinstance(dim, tuple), f"observation group '{group}' must be concatenated"
  return int(dim[-1])


class SkrlVecEnvWrapper(Wrapper):
  """mjlab env -> skrl ``Wrapper`` with policy/critic groups (see the module docstring)."""

  def __init__(
    self,
    env: Any,
    *,
    policy_group: str = "actor",
    critic_group: str = "critic",
    amp_group: str | None = None,
    clip_actions: float | None = None,
  ) -> None:
    super().__init__(env)
    base: ManagerBasedRlEnv = env.unwrapped
    self._base = base
    self.policy_group, self.critic_group, self.amp_group = policy_group, critic_group, amp_group
    self.clip_actions = clip_actions
    self._observation_space = _box(group_size(base, policy_group))
    self._state_space = _box(group_size(base, critic_group))
    self._amp_space = None if amp_group is None else _box(group_size(base, amp_group))
    n = base.action_manager.total_action_dim
    bound = np.inf if clip_actions is None else clip_actions
    self._action_space = gymnasium.spaces.Box(low=-bound, high=bound, shape=(n,), dtype=np.float32)
    obs, self._infos = env.reset()
    self._obs: dict[str, torch.Tensor] = obs

  @property
  def unwrapped(self) -> ManagerBasedRlEnv:
    return self._base

  @property
  def observation_space(self) -> gymnasium.Space:
    return self._observation_space

  @property
  def state_space(self) -> gymnasium.Space:
    return self._state_space

  @property
  def action_space(self) -> gymnasium.Space:
    return self._action_space

  @property
  def amp_observation_space(self) -> gymnasium.Space:
    if self._amp_space is None:
      raise AttributeError("this wrapper has no AMP observation group")
    return self._amp_space

  def record_videos(self, folder: Path, interval: int, length: int) -> None:
    """Record env 0 every ``interval`` steps from now on (``rl.video.PeriodicVideoRecorder``)."""
    from legged_robots.rl.video import PeriodicVideoRecorder

    self._env = PeriodicVideoRecorder(self._env, folder, interval, length)

  def randomize_episode_lengths(self) -> None:
    """Spread the first time-outs over an episode (rsl_rl's ``init_at_random_ep_len``)."""
    buf = self._base.episode_length_buf
    buf[:] = torch.randint_like(buf, high=int(self._base.max_episode_length))

  def reset(self) -> tuple[torch.Tensor, dict[str, Any]]:
    """The current observations: the env was reset when wrapped and resets envs itself."""
    return self._obs[self.policy_group], self._infos

  def state(self) -> torch.Tensor:
    return self._obs[self.critic_group]

  def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, Any]:
    if self.clip_actions is not None:
      actions = torch.clamp(actions, -self.clip_actions, self.clip_actions)
    with torch.no_grad():
      obs, reward, terminated, truncated, extras = self._env.step(actions)
    if self._base.cfg.is_finite_horizon:
      terminated, truncated = terminated | truncated, torch.zeros_like(truncated)
    self._obs = obs
    infos: dict[str, Any] = {"log": extras.get("log", {})}
    if self.amp_group is not None:
      infos["amp_obs"] = obs[self.amp_group]
    return obs[self.policy_group], reward.view(-1, 1), terminated.view(-1, 1), truncated.view(-1, 1), infos

  def collect_reference_motions(self, num_samples: int) -> torch.Tensor:
    """Expert AMP windows, built like the env's ``amp`` group (skrl AMP's motion hook)."""
    from legged_robots.tasks.mdp.amp import expert_amp_observation

    return expert_amp_observation(self._base, num_samples)

  def render(self, *args, **kwargs) -> None:
    return None

  def close(self) -> None:
    self._env.close()
