"""AMP-PPO: rsl_rl's PPO plus a discriminator whose score is a style reward.

Composition, not a fork: PPO's rollout, GAE and update run unchanged. ``AmpPPO`` adds

- in ``process_env_step``: the style reward of the transition just taken, mixed into
  the task reward before PPO stores it (the mix is defined in ``mix_rewards``), and the
  transition's AMP window into the replay buffer;
- in ``update``: after PPO's epochs, one discriminator step per PPO mini-batch
  (``num_learning_epochs * num_mini_batches`` steps), each on a policy mini-batch from
  the replay buffer and an expert mini-batch of clip windows drawn on the device;
- discriminator, its optimizer and the AMP normalizer in ``save``/``load``.

One ``EmpiricalNormalization`` serves expert and policy windows (docs/amp.md: two
separate normalizers map the same state to different inputs for the two classes, which
the discriminator can then separate without looking at the motion).

The window an env reports right after a reset is the reset state repeated (mjlab
backfills the history), not a transition the policy made: its style reward is 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from rsl_rl.algorithms import PPO
from rsl_rl.modules import EmpiricalNormalization
from tensordict import TensorDict

from legged_robots.rl.amp.discriminator import (
  Discriminator,
  ReplayBuffer,
  discriminator_loss,
  style_reward,
)
from legged_robots.rl.errors import CheckpointError
from legged_robots.tasks.agents_common import AmpCfg
from legged_robots.tasks.mdp.amp import expert_amp_observation

_DISC_STATS = (
  "AMP/discriminator_loss",
  "AMP/grad_penalty",
  "AMP/expert_score",
  "AMP/policy_score",
  "AMP/expert_accuracy",
  "AMP/policy_accuracy",
)
AMP_STATE_KEYS = ("discriminator_state_dict", "amp_optimizer_state_dict", "amp_normalizer_state_dict")


def check_amp_state(state: dict, where: str) -> None:
  """Raise CheckpointError unless ``state`` holds the discriminator, its optimizer and normalizer."""
  missing = [k for k in AMP_STATE_KEYS if k not in state]
  if missing:
    raise CheckpointError(
      f"{where} has no AMP state ({', '.join(missing)}): it was not written by AMP-PPO; "
      "resume an AMP run, or train this one from scratch"
    )


@contextmanager
def matmul_precision(precision: str) -> Iterator[None]:
  """CUDA float32 matmul precision ("ieee" or "tf32") inside the block, restored after it."""
  matmul = torch.backends.cuda.matmul
  before = matmul.fp32_precision
  matmul.fp32_precision = precision
  try:
    yield
  finally:
    matmul.fp32_precision = before


def mix_rewards(task: torch.Tensor, style: torch.Tensor, coef: float, dt: float, lerp: float) -> torch.Tensor:
  """r = lerp * r_task + (1 - lerp) * coef * dt * style.

  ``task`` is the env's reward (mjlab already multiplies each term by the control dt);
  ``style`` is the dimensionless per-step style reward in [0, 1] (LSGAN), scaled by the
  same dt so that coef plays the role of a task term's weight.
  """
  return lerp * task + (1.0 - lerp) * coef * dt * style


class AmpPPO(PPO):
  """PPO with an AMP discriminator; built by ``construct_algorithm`` from the runner cfg."""

  amp: AmpCfg
  discriminator: Discriminator
  amp_normalizer: EmpiricalNormalization
  amp_optimizer: torch.optim.Optimizer
  replay: ReplayBuffer
  expert_sampler: Callable[[int], torch.Tensor]
  step_dt: float

  @staticmethod
  def construct_algorithm(obs: TensorDict, env: Any, cfg: dict, device: str) -> AmpPPO:
    amp_cfg = dict(cfg["amp"])
    alg = PPO.construct_algorithm(obs, env, cfg, device)
    if not isinstance(alg, AmpPPO):
      raise TypeError(f"algorithm.class_name must name AmpPPO for an AMP runner, got {type(alg).__name__}")
    unwrapped = env.unwrapped
    alg.setup_amp(
      AmpCfg(**amp_cfg),
      obs_dim=obs[amp_cfg["obs_group"]].shape[-1],
      expert_sampler=lambda n: expert_amp_observation(unwrapped, n),
      step_dt=unwrapped.step_dt,
    )
    return alg

  def setup_amp(
    self, amp: AmpCfg, obs_dim: int, expert_sampler: Callable[[int], torch.Tensor], step_dt: float
  ) -> None:
    self.amp = amp
    self.discriminator = Discriminator(
      obs_dim, amp.discriminator_hidden_dims, amp.discriminator_activation
    ).to(self.device)
    self.amp_normalizer = EmpiricalNormalization(obs_dim).to(self.device)
    self.amp_optimizer = torch.optim.Adam(
      [
        {"params": self.discriminator.trunk.parameters(), "weight_decay": amp.trunk_weight_decay},
        {"params": self.discriminator.head.parameters(), "weight_decay": amp.head_weight_decay},
      ],
      lr=amp.learning_rate,
      # One fused kernel per parameter group instead of a dozen foreach launches: the
      # 20 discriminator steps of an update are launch-bound on a GPU.
      fused=torch.device(self.device).type == "cuda",
    )
    self.replay = ReplayBuffer(amp.replay_buffer_size, obs_dim, self.device)
    self.expert_sampler = expert_sampler
    self.step_dt = step_dt
    self._reward_sums = torch.zeros(2, device=self.device)  # task, style (per-step means)
    self._reward_steps = 0

  def style_reward(self, amp_obs: torch.Tensor) -> torch.Tensor:
    """Dimensionless style reward of each env's latest AMP window, (N,)."""
    with torch.no_grad(), matmul_precision(self.amp.discriminator_matmul):
      return style_reward(self.discriminator(self.amp_normalizer(amp_obs)), self.amp.loss_type)

  def process_env_step(
    self, obs: TensorDict, rewards: torch.Tensor, dones: torch.Tensor, extras: dict[str, torch.Tensor]
  ) -> None:
    amp_obs = obs[self.amp.obs_group]
    style = torch.where(dones.bool(), 0.0, self.style_reward(amp_obs))
    mixed = mix_rewards(rewards, style, self.amp.style_reward_coef, self.step_dt, self.amp.task_reward_lerp)
    self._reward_sums += torch.stack(
      [rewards.mean(), style.mean() * self.amp.style_reward_coef * self.step_dt]
    )
    self._reward_steps += 1
    self.replay.insert(amp_obs)
    super().process_env_step(obs, mixed, dones, extras)

  def update(self) -> dict[str, float]:
    num_mini_batches = self.num_mini_batches
    batch = self.amp.discriminator_batch_size or (
      self.storage.num_envs * self.storage.num_transitions_per_env // num_mini_batches
    )
    loss_dict = super().update()
    steps = self.num_learning_epochs * num_mini_batches
    # Every step's samples are drawn at once (one sampler launch instead of one per step),
    # and statistics stay on the device until the end: one host sync per update.
    policy = self.replay.sample(steps * batch).reshape(steps, batch, -1)
    expert = self.expert_sampler(steps * batch).reshape(steps, batch, -1)
    with matmul_precision(self.amp.discriminator_matmul):
      stats = torch.stack([self._discriminator_step(e, p) for e, p in zip(expert, policy, strict=True)])
    stats = stats.mean(dim=0)
    loss_dict.update(zip(_DISC_STATS, stats.tolist(), strict=True))
    if self._reward_steps:
      task, style = (self._reward_sums / self._reward_steps).tolist()
      loss_dict.update({"AMP/task_reward": task, "AMP/style_reward": style})
    self._reward_sums.zero_()
    self._reward_steps = 0
    return loss_dict

  def _discriminator_step(self, expert: torch.Tensor, policy: torch.Tensor) -> torch.Tensor:
    """One discriminator step on raw expert and policy windows; returns the detached
    statistics of ``_DISC_STATS``."""
    self.amp_normalizer.update(torch.cat([expert, policy]))
    out = discriminator_loss(
      self.discriminator,
      self.amp_normalizer(expert),
      self.amp_normalizer(policy),
      self.amp.loss_type,
      self.amp.gradient_penalty_coef,
    )
    self.amp_optimizer.zero_grad()
    out.loss.backward()
    if self.is_multi_gpu:  # average the discriminator's gradients over the ranks, as PPO's
      grads = [p.grad for p in self.discriminator.parameters() if p.grad is not None]
      flat = torch.cat([g.view(-1) for g in grads])
      torch.distributed.all_reduce(flat)
      flat /= self.gpu_world_size
      offset = 0
      for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()
    self.amp_optimizer.step()
    parts = (out.classification, out.grad_penalty, out.expert_score, out.policy_score)
    return torch.stack([*(p.detach() for p in parts), out.expert_accuracy, out.policy_accuracy])

  def broadcast_parameters(self) -> None:
    """PPO's broadcast, then rank 0's discriminator and AMP normalizer to every rank."""
    super().broadcast_parameters()
    states = [self.discriminator.state_dict(), self.amp_normalizer.state_dict()]
    torch.distributed.broadcast_object_list(states, src=0)
    self.discriminator.load_state_dict(states[0])
    self.amp_normalizer.load_state_dict(states[1])

  def train_mode(self) -> None:
    super().train_mode()
    self.discriminator.train()
    self.amp_normalizer.train()

  def eval_mode(self) -> None:
    super().eval_mode()
    self.discriminator.eval()
    self.amp_normalizer.eval()

  def save(self) -> dict:
    state = super().save()
    state["discriminator_state_dict"] = self.discriminator.state_dict()
    state["amp_optimizer_state_dict"] = self.amp_optimizer.state_dict()
    state["amp_normalizer_state_dict"] = self.amp_normalizer.state_dict()
    return state

  def load(self, loaded_dict: dict, load_cfg: dict | None, strict: bool) -> bool:
    """PPO's load; the AMP state too when resuming (load_cfg None) or asked (``amp``)."""
    result = super().load(loaded_dict, load_cfg, strict)
    if load_cfg is None or load_cfg.get("amp"):
      check_amp_state(loaded_dict, "the checkpoint")
      self.discriminator.load_state_dict(loaded_dict["discriminator_state_dict"], strict=strict)
      self.amp_optimizer.load_state_dict(loaded_dict["amp_optimizer_state_dict"])
      self.amp_normalizer.load_state_dict(loaded_dict["amp_normalizer_state_dict"])
    return result
