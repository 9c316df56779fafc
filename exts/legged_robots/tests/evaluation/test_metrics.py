"""Play metrics on fake data with hand-computed values."""

import pytest
import torch

from legged_robots.evaluation.metrics import EpisodeMetrics


def test_metrics_match_hand_computed_values():
  m = EpisodeMetrics(num_envs=2, reward_terms=["a", "b"], step_dt=0.5)
  no = torch.tensor([False, False])
  cmd = torch.tensor([[1.0, 0.0, 0.5], [0.0, 0.0, 0.0]])
  vel = torch.tensor([[0.0, 0.0, 0.0], [3.0, 4.0, -1.0]])
  # step 1: both alive; lin errors 1 and 5, yaw errors 0.5 and 1.
  m.step(torch.tensor([[1.0, 2.0], [0.5, 0.0]]), no, no, cmd, vel)
  # step 2: env 0 falls (done, not time out): its tracking sample is left out.
  m.step(torch.tensor([[1.0, 0.0], [0.5, 1.0]]), torch.tensor([True, False]), no, cmd, vel)
  # step 3: env 1 times out.
  m.step(torch.tensor([[9.0, 9.0], [0.5, 0.0]]), torch.tensor([False, True]), torch.tensor([False, True]))
  s = m.summary()
  assert s["episodes"] == 2
  assert s["episode_length_s"] == pytest.approx((2 * 0.5 + 3 * 0.5) / 2)
  assert s["fall_rate"] == pytest.approx(0.5)
  # tracked samples: (1, 0.5), (5, 1), (5, 1) -> lin 11/3, yaw 2.5/3
  assert s["lin_vel_error"] == pytest.approx(11 / 3)
  assert s["yaw_rate_error"] == pytest.approx(2.5 / 3)
  # episode sums: env0 a=2 b=2; env1 a=1.5 b=1 -> means a=1.75 b=1.5
  assert s["rewards"] == pytest.approx({"a": 1.75, "b": 1.5})


def test_no_finished_episode_is_an_error():
  m = EpisodeMetrics(num_envs=1, reward_terms=["a"], step_dt=0.02)
  m.step(torch.zeros(1, 1), torch.tensor([False]), torch.tensor([False]))
  with pytest.raises(ValueError, match="no episode finished"):
    m.summary()
  m.step(torch.zeros(1, 1), torch.tensor([True]), torch.tensor([True]))
  assert m.summary()["lin_vel_error"] is None
