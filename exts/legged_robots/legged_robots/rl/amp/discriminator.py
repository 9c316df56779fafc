"""The AMP discriminator, its losses, the style reward and the policy replay buffer.

Notation: x is a normalized AMP observation (a window of style features), d = D(x) the
discriminator's scalar output.

- LSGAN (Mao et al. 2017; AMP, Peng et al. 2021, eq. 6): targets +1 for expert windows,
  -1 for policy windows: L = 0.5 * (mean (d_E - 1)^2 + mean (d_P + 1)^2).
  Style reward r = clamp(1 - 0.25 * (d - 1)^2, min=0) in [0, 1] (1 at d = +1).
- BCE: L = 0.5 * (BCE(d_E, 1) + BCE(d_P, 0)) on logits d; reward r = -log(1 - sigmoid(d))
  = softplus(d).
- Gradient penalty on expert windows: GP = mean ||dD/dx_E||^2; the loss adds
  ``gradient_penalty_coef * GP`` (coef 10 as in AMP-for-hardware; Peng et al. write
  w_gp / 2 with w_gp = 10, i.e. 5: pick the coef, the formula is this one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn import functional

LossType = Literal["lsgan", "bce"]


class Discriminator(nn.Module):
  """MLP trunk (hidden_dims, activation) and a linear head to one logit."""

  def __init__(self, input_dim: int, hidden_dims: Sequence[int] = (1024, 512), activation: str = "relu"):
    super().__init__()
    act: type[nn.Module] = {"relu": nn.ReLU, "elu": nn.ELU, "tanh": nn.Tanh}[activation]
    layers: list[nn.Module] = []
    last = input_dim
    for width in hidden_dims:
      layers += [nn.Linear(last, width), act()]
      last = width
    self.trunk = nn.Sequential(*layers)
    self.head = nn.Linear(last, 1)

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    """(B, input_dim) -> (B,) logits."""
    return self.head(self.trunk(x)).squeeze(-1)


@dataclass(frozen=True)
class DiscriminatorLoss:
  loss: torch.Tensor
  """Classification loss + gradient penalty term (what is minimized)."""
  classification: torch.Tensor
  grad_penalty: torch.Tensor
  """mean ||dD/dx||^2 on expert windows (before the coefficient)."""
  expert_score: torch.Tensor
  policy_score: torch.Tensor
  expert_accuracy: torch.Tensor
  """Fraction of expert windows with d > 0."""
  policy_accuracy: torch.Tensor
  """Fraction of policy windows with d < 0."""


def classification_loss(d_expert: torch.Tensor, d_policy: torch.Tensor, loss_type: LossType) -> torch.Tensor:
  """LSGAN or BCE discriminator loss (module docstring)."""
  if loss_type == "lsgan":
    return 0.5 * ((d_expert - 1.0).pow(2).mean() + (d_policy + 1.0).pow(2).mean())
  bce = functional.binary_cross_entropy_with_logits
  return 0.5 * (bce(d_expert, torch.ones_like(d_expert)) + bce(d_policy, torch.zeros_like(d_policy)))


def expert_grad_penalty(disc: Discriminator, x_expert: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
  """(d_expert, mean ||dD/dx||^2) with the graph kept for the penalty's own gradient."""
  x = x_expert.detach().requires_grad_(True)
  d = disc(x)
  (grad,) = torch.autograd.grad(d.sum(), x, create_graph=True)
  return d, grad.pow(2).sum(dim=-1).mean()


def discriminator_loss(
  disc: Discriminator,
  x_expert: torch.Tensor,
  x_policy: torch.Tensor,
  loss_type: LossType = "lsgan",
  gradient_penalty_coef: float = 10.0,
) -> DiscriminatorLoss:
  """The full discriminator objective on normalized expert and policy windows."""
  d_expert, gp = expert_grad_penalty(disc, x_expert)
  d_policy = disc(x_policy)
  cls = classification_loss(d_expert, d_policy, loss_type)
  with torch.no_grad():
    stats = (
      d_expert.mean(),
      d_policy.mean(),
      (d_expert > 0).float().mean(),
      (d_policy < 0).float().mean(),
    )
  return DiscriminatorLoss(cls + gradient_penalty_coef * gp, cls, gp, *stats)


def style_reward(d: torch.Tensor, loss_type: LossType = "lsgan") -> torch.Tensor:
  """Per-step style reward from logits d, before the coefficient and the dt scaling."""
  if loss_type == "lsgan":
    return torch.clamp(1.0 - 0.25 * (d - 1.0).pow(2), min=0.0)
  return functional.softplus(d)  # -log(1 - sigmoid(d))


class ReplayBuffer:
  """A ring of the latest ``capacity`` policy AMP windows, sampled uniformly."""

  def __init__(self, capacity: int, dim: int, device: str | torch.device):
    if capacity < 1:
      raise ValueError(f"replay buffer capacity must be >= 1, got {capacity}")
    self._data = torch.zeros(capacity, dim, device=device)
    self._next = 0
    self.size = 0

  @property
  def capacity(self) -> int:
    return self._data.shape[0]

  def insert(self, x: torch.Tensor) -> None:
    """Append rows of x (oldest rows are overwritten when full)."""
    n = x.shape[0]
    if n >= self.capacity:
      self._data.copy_(x[-self.capacity :])
      self._next, self.size = 0, self.capacity
      return
    end = self._next + n
    if end <= self.capacity:
      self._data[self._next : end] = x
    else:
      first = self.capacity - self._next
      self._data[self._next :] = x[:first]
      self._data[: n - first] = x[first:]
    self._next = end % self.capacity
    self.size = min(self.size + n, self.capacity)

  def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    if self.size == 0:
      raise RuntimeError("replay buffer is empty")
    idx = torch.randint(0, self.size, (n,), device=self._data.device, generator=generator)
    return self._data[idx]
