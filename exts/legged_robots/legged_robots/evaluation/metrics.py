"""Evaluation metrics of a played policy, accumulated over completed episodes.

Per step the caller passes tensors of shape (num_envs, ...); an episode counts once it
ends (done). Definitions (all means over completed episodes unless noted):

- episode_length_s: steps * step_dt;
- fall_rate: fraction of episodes ended by a termination other than the time limit;
- lin_vel_error: mean over env-steps of ||v_cmd_xy - v_xy||_2 (m/s, body frame);
- yaw_rate_error: mean over env-steps of |w_cmd_z - w_z| (rad/s);
  (env-steps that end an episode are left out: their velocity is the reset state's)
- rewards[term]: per-episode sum of the term's per-step reward (weight * value * dt).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class EpisodeMetrics:
  num_envs: int
  reward_terms: list[str]
  step_dt: float
  _ep_steps: torch.Tensor = field(init=False)
  _ep_rewards: torch.Tensor = field(init=False)
  _lengths: list[float] = field(default_factory=list)
  _falls: list[bool] = field(default_factory=list)
  _term_sums: list[torch.Tensor] = field(default_factory=list)
  _lin_err_sum: float = 0.0
  _yaw_err_sum: float = 0.0
  _tracked_steps: int = 0

  def __post_init__(self) -> None:
    self._ep_steps = torch.zeros(self.num_envs)
    self._ep_rewards = torch.zeros(self.num_envs, len(self.reward_terms))

  @property
  def episodes(self) -> int:
    return len(self._lengths)

  def step(
    self,
    term_rewards: torch.Tensor,
    dones: torch.Tensor,
    time_outs: torch.Tensor,
    command: torch.Tensor | None = None,
    velocity: torch.Tensor | None = None,
    active: torch.Tensor | None = None,
  ) -> None:
    """Record one env step.

    term_rewards: (N, T) reward of each term this step; dones/time_outs: (N,) bool;
    command and velocity: (N, 3) as (vx, vy, wz), or None for tasks without a
    velocity command; active: (N,) bool, envs where it is False are left out of this
    step entirely (an evaluation that counts only each env's first episode passes
    False once an env's first episode ended). None means all envs count.
    """
    keep = torch.ones(self.num_envs, dtype=torch.bool) if active is None else active.detach().cpu().bool()
    self._ep_steps += keep
    self._ep_rewards += torch.where(keep[:, None], term_rewards.detach().cpu().float(), 0.0)
    dones = dones.detach().cpu().bool() & keep
    if command is not None and velocity is not None:
      live = ~dones & keep
      command, velocity = command.detach().cpu()[live], velocity.detach().cpu()[live]
      self._lin_err_sum += (command[:, :2] - velocity[:, :2]).norm(dim=1).sum().item()
      self._yaw_err_sum += (command[:, 2] - velocity[:, 2]).abs().sum().item()
      self._tracked_steps += command.shape[0]
    done_ids = dones.nonzero(as_tuple=False).flatten().tolist()
    time_outs = time_outs.detach().cpu()
    for i in done_ids:
      self._lengths.append(self._ep_steps[i].item() * self.step_dt)
      self._falls.append(not bool(time_outs[i]))
      self._term_sums.append(self._ep_rewards[i].clone())
      self._ep_steps[i] = 0
      self._ep_rewards[i] = 0

  def summary(self) -> dict:
    """Metrics as plain data; tracking errors are None when nothing was tracked."""
    if not self._lengths:
      raise ValueError("no episode finished: play more steps or more episodes")
    sums = torch.stack(self._term_sums).mean(dim=0).tolist()
    tracked = self._tracked_steps > 0
    return {
      "episodes": self.episodes,
      "episode_length_s": sum(self._lengths) / self.episodes,
      "fall_rate": sum(self._falls) / self.episodes,
      "lin_vel_error": self._lin_err_sum / self._tracked_steps if tracked else None,
      "yaw_rate_error": self._yaw_err_sum / self._tracked_steps if tracked else None,
      "rewards": dict(zip(self.reward_terms, sums, strict=True)),
    }
