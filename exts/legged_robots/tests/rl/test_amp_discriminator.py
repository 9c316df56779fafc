"""AMP discriminator, losses, gradient penalty, style reward, reward mix and replay buffer.

Expected values are worked out by hand in the comments, on a 2-2-1 ReLU net whose
weights are set by hand: D(x) = relu(x1) - relu(x2) + 0.5.
"""

import math

import pytest
import torch

from legged_robots.rl.amp.algorithm import AmpPPO, matmul_precision, mix_rewards
from legged_robots.rl.amp.discriminator import (
  Discriminator,
  ReplayBuffer,
  classification_loss,
  discriminator_loss,
  expert_grad_penalty,
  style_reward,
)
from legged_robots.tasks.agents_common import AmpCfg

LOG2 = math.log(2.0)


def _hand_net() -> Discriminator:
  """trunk W = I, b = 0; head w = [1, -1], b = 0.5: D(x) = relu(x1) - relu(x2) + 0.5."""
  disc = Discriminator(2, (2,), "relu")
  with torch.no_grad():
    disc.trunk[0].weight.copy_(torch.eye(2))
    disc.trunk[0].bias.zero_()
    disc.head.weight.copy_(torch.tensor([[1.0, -1.0]]))
    disc.head.bias.fill_(0.5)
  return disc


def _t(*rows: list[float]) -> torch.Tensor:
  return torch.tensor(rows, dtype=torch.float32)


def test_forward_matches_hand_values():
  disc = _hand_net()
  x = _t([2.0, 1.0], [-3.0, 1.0], [1.0, -2.0], [-1.0, -1.0])
  # [2, 1]:   2 - 1 + 0.5 = 1.5
  # [-3, 1]:  relu(-3) = 0 -> 0 - 1 + 0.5 = -0.5
  # [1, -2]:  relu(-2) = 0 -> 1 - 0 + 0.5 = 1.5
  # [-1, -1]: both cut -> 0.5
  d = disc(x)
  assert d.shape == (4,)
  torch.testing.assert_close(d, torch.tensor([1.5, -0.5, 1.5, 0.5]))


def test_lsgan_classification_loss_by_hand():
  # 0.5 * (mean((1-1)^2, (0-1)^2) + mean((-1+1)^2, (1+1)^2)) = 0.5 * (1/2 + 4/2) = 1.25
  loss = classification_loss(torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0]), "lsgan")
  assert loss.item() == pytest.approx(1.25)
  # Perfect scores (+1 expert, -1 policy) cost nothing.
  assert classification_loss(torch.ones(3), -torch.ones(3), "lsgan").item() == 0.0


def test_bce_classification_loss_by_hand():
  # All logits 0: every term is -log(sigmoid(0)) = log 2 -> 0.5 * (log 2 + log 2) = log 2.
  zeros = torch.zeros(2)
  assert classification_loss(zeros, zeros, "bce").item() == pytest.approx(LOG2)
  # Expert label 1 costs log(1 + e^-d); policy label 0 costs log(1 + e^d).
  # expert d = [1, 0]: log(1 + e^-1), log 2;  policy d = [-1, 1]: log(1 + e^-1), log(1 + e).
  a = math.log(1.0 + math.exp(-1.0))  # 0.3133
  b = math.log(1.0 + math.e)  # 1.3133
  expected = 0.5 * ((a + LOG2) / 2 + (a + b) / 2)  # 0.6582
  loss = classification_loss(torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0]), "bce")
  assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_grad_penalty_is_piecewise_constant_squared_gradient():
  disc = _hand_net()
  # dD/dx = head.w * relu'(x) (W = I):
  #   [2, 1]  both active -> [1, -1], ||g||^2 = 2
  #   [-3, 1] x1 cut      -> [0, -1], ||g||^2 = 1
  #   [-1, -1] both cut   -> [0, 0],  ||g||^2 = 0
  d, gp = expert_grad_penalty(disc, _t([2.0, 1.0], [-3.0, 1.0]))
  torch.testing.assert_close(d, torch.tensor([1.5, -0.5]))
  assert gp.item() == pytest.approx((2.0 + 1.0) / 2)
  _, gp_cut = expert_grad_penalty(disc, _t([-1.0, -1.0]))
  assert gp_cut.item() == 0.0


def test_grad_penalty_gradient_reaches_the_weights():
  disc = _hand_net()
  # gp = mean_i ||m_i * h||^2 with relu masks m = [1, 1], [0, 1] and head h = [h1, h2]:
  # d gp / d h1 = mean(2 * h1, 0) = h1 = 1;  d gp / d h2 = mean(2 * h2, 2 * h2) = 2 * h2 = -2.
  _, gp = expert_grad_penalty(disc, _t([2.0, 1.0], [-3.0, 1.0]))
  gp.backward()
  assert disc.head.weight.grad is not None
  torch.testing.assert_close(disc.head.weight.grad, torch.tensor([[1.0, -2.0]]))


def test_discriminator_loss_adds_coef_times_penalty_and_counts_accuracy():
  disc = _hand_net()
  x_expert = _t([2.0, 1.0], [-3.0, 1.0])  # d = [1.5, -0.5], gp = 1.5 (above)
  x_policy = _t([-2.0, 3.0], [1.0, -2.0])  # d = [0 - 3 + 0.5, 1 - 0 + 0.5] = [-2.5, 1.5]
  out = discriminator_loss(disc, x_expert, x_policy, "lsgan", gradient_penalty_coef=10.0)
  # LSGAN: expert (d - 1)^2 = 0.5^2, 1.5^2 -> mean 1.25; policy (d + 1)^2 = 1.5^2, 2.5^2 -> mean 4.25;
  # 0.5 * (1.25 + 4.25) = 2.75
  assert out.classification.item() == pytest.approx(2.75)
  assert out.grad_penalty.item() == pytest.approx(1.5)
  assert out.loss.item() == pytest.approx(2.75 + 10.0 * 1.5)  # 17.75
  assert out.expert_score.item() == pytest.approx(0.5)  # mean(1.5, -0.5)
  assert out.policy_score.item() == pytest.approx(-0.5)  # mean(-2.5, 1.5)
  # expert d > 0: only 1.5 of [1.5, -0.5]; policy d < 0: only -2.5 of [-2.5, 1.5].
  assert out.expert_accuracy.item() == 0.5
  assert out.policy_accuracy.item() == 0.5
  # All right: expert [2, 1] -> 1.5 > 0, policy [-2, 3] -> -2.5 < 0.
  out = discriminator_loss(disc, _t([2.0, 1.0]), _t([-2.0, 3.0]), "lsgan", gradient_penalty_coef=0.0)
  assert (out.expert_accuracy.item(), out.policy_accuracy.item()) == (1.0, 1.0)
  # coef 0 leaves only the classification: 0.5 * (0.5^2 + 1.5^2) = 1.25
  assert out.loss.item() == pytest.approx(1.25)


def test_lsgan_style_reward_by_hand():
  d = torch.tensor([1.0, -1.0, 3.0, 0.0, 2.0, 5.0, -3.0])
  # 1 - 0.25 (d - 1)^2: d=1 -> 1; d=-1 -> 1 - 1 = 0; d=3 -> 0; d=0 -> 0.75; d=2 -> 0.75;
  # d=5 -> 1 - 4 = -3 -> clamped 0; d=-3 -> -3 -> clamped 0.
  torch.testing.assert_close(style_reward(d, "lsgan"), torch.tensor([1.0, 0.0, 0.0, 0.75, 0.75, 0.0, 0.0]))


def test_bce_style_reward_is_softplus():
  # -log(1 - sigmoid(d)) = log(1 + e^d): d=0 -> log 2; d=1 -> log(1 + e); d=-1 -> log(1 + e^-1).
  r = style_reward(torch.tensor([0.0, 1.0, -1.0]), "bce")
  expected = torch.tensor([LOG2, math.log(1.0 + math.e), math.log(1.0 + math.exp(-1.0))])
  torch.testing.assert_close(r, expected)


def test_mix_rewards_by_hand():
  task = torch.tensor([0.1, 1.0])
  style = torch.tensor([0.5, 0.0])
  # 0.3 * 0.1 + 0.7 * 2 * 0.02 * 0.5 = 0.03 + 0.014 = 0.044;  0.3 * 1 + 0 = 0.3
  torch.testing.assert_close(mix_rewards(task, style, 2.0, 0.02, 0.3), torch.tensor([0.044, 0.3]))
  # lerp 1: task only; lerp 0: 2 * 0.02 * style = [0.02, 0].
  torch.testing.assert_close(mix_rewards(task, style, 2.0, 0.02, 1.0), task)
  torch.testing.assert_close(mix_rewards(task, style, 2.0, 0.02, 0.0), torch.tensor([0.02, 0.0]))


def _col(*values: float) -> torch.Tensor:
  return torch.tensor(values, dtype=torch.float32).unsqueeze(-1)


def test_replay_buffer_wraps_around_the_ring():
  buf = ReplayBuffer(4, 1, "cpu")
  assert (buf.capacity, buf.size) == (4, 0)
  buf.insert(_col(1, 2, 3))
  assert buf.size == 3
  buf.insert(_col(4, 5))
  # rows 0..2 = 1, 2, 3; 4 goes to row 3, 5 wraps to row 0 (overwriting the oldest, 1).
  assert buf.size == 4
  torch.testing.assert_close(buf._data, _col(5, 2, 3, 4))
  buf.insert(_col(6))  # next free row is 1 -> overwrites 2
  torch.testing.assert_close(buf._data, _col(5, 6, 3, 4))


def test_replay_buffer_keeps_the_last_capacity_rows_of_a_large_insert():
  buf = ReplayBuffer(4, 1, "cpu")
  buf.insert(_col(1, 2))
  buf.insert(_col(10, 11, 12, 13, 14, 15))
  assert buf.size == 4
  torch.testing.assert_close(buf._data, _col(12, 13, 14, 15))
  buf.insert(_col(16))  # the ring restarts at row 0 -> overwrites 12, the oldest
  torch.testing.assert_close(buf._data, _col(16, 13, 14, 15))


def test_replay_buffer_samples_only_inserted_rows():
  buf = ReplayBuffer(4, 2, "cpu")
  buf.insert(torch.tensor([[1.0, -1.0], [2.0, -2.0]]))  # rows 2, 3 still hold zeros
  gen = torch.Generator().manual_seed(0)
  s = buf.sample(500, generator=gen)
  assert s.shape == (500, 2)
  assert set(s[:, 0].tolist()) == {1.0, 2.0}  # both rows drawn, never an empty (zero) row
  torch.testing.assert_close(s[:, 1], -s[:, 0])  # rows come back whole


def test_replay_buffer_rejects_zero_capacity_and_empty_sampling():
  with pytest.raises(ValueError):
    ReplayBuffer(0, 3, "cpu")
  with pytest.raises(RuntimeError):
    ReplayBuffer(4, 3, "cpu").sample(1)


def test_discriminator_learns_to_separate_two_gaussians():
  torch.manual_seed(0)
  disc = Discriminator(2, (32, 32))
  # Parameter groups as in AmpPPO.setup_amp: trunk and head with their own weight decay.
  opt = torch.optim.Adam(
    [
      {"params": disc.trunk.parameters(), "weight_decay": 1e-4},
      {"params": disc.head.parameters(), "weight_decay": 1e-2},
    ],
    lr=1e-3,
  )
  std = math.sqrt(0.5)  # covariance 0.5 I
  expert_mean = torch.tensor([2.0, 2.0])
  policy_mean = torch.tensor([-2.0, -2.0])

  def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    return expert_mean + std * torch.randn(n, 2), policy_mean + std * torch.randn(n, 2)

  for _ in range(300):
    x_e, x_p = draw(256)
    out = discriminator_loss(disc, x_e, x_p, "lsgan", gradient_penalty_coef=10.0)
    opt.zero_grad()
    out.loss.backward()
    opt.step()

  x_e, x_p = draw(1000)
  out = discriminator_loss(disc, x_e, x_p, "lsgan", gradient_penalty_coef=10.0)
  assert out.expert_accuracy.item() > 0.95
  assert out.policy_accuracy.item() > 0.95
  with torch.no_grad():
    d_e, d_p = disc(x_e), disc(x_p)
  assert style_reward(d_e).mean().item() > style_reward(d_p).mean().item() + 0.5


def _bare_amp_ppo(monkeypatch, batch_size: int, calls: list[int]) -> AmpPPO:
  """An AmpPPO with only its AMP parts (PPO's own update replaced by a no-op)."""
  from types import SimpleNamespace

  from rsl_rl.algorithms import PPO

  monkeypatch.setattr(PPO, "update", lambda self: {})
  alg = object.__new__(AmpPPO)
  alg.device = "cpu"
  alg.num_learning_epochs, alg.num_mini_batches = 2, 3
  alg.storage = SimpleNamespace(num_envs=4, num_transitions_per_env=6)  # 24 transitions
  alg.is_multi_gpu = False

  def expert(n: int) -> torch.Tensor:
    calls.append(n)
    return torch.randn(n, 2) + 2.0

  alg.setup_amp(AmpCfg(discriminator_hidden_dims=(8,), discriminator_batch_size=batch_size), 2, expert, 0.02)
  alg.replay.insert(torch.randn(50, 2))
  return alg


@pytest.mark.parametrize(("batch_size", "per_step"), [(0, 8), (5, 5)])
def test_update_draws_every_discriminator_batch_at_once(monkeypatch, batch_size, per_step):
  # 2 epochs x 3 mini-batches = 6 discriminator steps; the PPO mini-batch is 4 x 6 / 3 = 8
  # windows unless discriminator_batch_size sets another. One expert draw for all six steps;
  # the normalizer sees every expert and policy window once: 6 x 2 x per_step.
  calls: list[int] = []
  alg = _bare_amp_ppo(monkeypatch, batch_size, calls)
  before = [p.detach().clone() for p in alg.discriminator.parameters()]
  stats = alg.update()
  assert calls == [6 * per_step]
  assert int(alg.amp_normalizer.count) == 6 * 2 * per_step
  assert set(stats) >= {"AMP/discriminator_loss", "AMP/expert_accuracy"}
  assert any(not torch.equal(a, b) for a, b in zip(before, alg.discriminator.parameters(), strict=True))


def test_matmul_precision_is_restored_after_the_block_even_on_error():
  matmul = torch.backends.cuda.matmul
  before = matmul.fp32_precision
  with pytest.raises(RuntimeError), matmul_precision("tf32"):
    assert matmul.fp32_precision == "tf32"
    raise RuntimeError("inside")
  assert matmul.fp32_precision == before
