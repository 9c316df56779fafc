"""Checkpoint lookup, atomic writes and validation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from legged_robots.rl import checkpoint as ckpt
from legged_robots.rl.errors import CheckpointError


def _state(obs: int = 5, act: int = 2, it: int = 0) -> dict:
  actor = {
    "obs_normalizer._mean": torch.zeros(1, obs),
    "mlp.0.weight": torch.zeros(8, obs),
    "mlp.2.weight": torch.zeros(8, 8),
    "mlp.4.weight": torch.zeros(act, 8),
  }
  return {"actor_state_dict": actor, "critic_state_dict": {}, "optimizer_state_dict": {}, "iter": it}


def _runs(root: Path) -> Path:
  exp = root / "exp"
  for run, iters in {
    "2024-01-01_00-00-00": [0, 5],
    "2024-01-02_00-00-00": [0, 50, 100],
    "2024-01-03_00-00-00": [],
  }.items():
    (exp / run).mkdir(parents=True)
    for it in iters:
      torch.save(_state(it=it), exp / run / f"model_{it}.pt")
  return exp


def test_minus_one_is_newest_run_with_a_checkpoint_and_highest_iteration(tmp_path):
  exp = _runs(tmp_path)
  # The newest run (01-03) holds no checkpoint; 100 > 50 numerically (not as text).
  assert ckpt.resolve_checkpoint(exp, "-1", "-1") == exp / "2024-01-02_00-00-00" / "model_100.pt"
  assert ckpt.resolve_checkpoint(exp, "2024-01-01_00-00-00", "0").name == "model_0.pt"
  assert ckpt.resolve_checkpoint(exp, "2024-01-01_00-00-00", "model_5.pt").name == "model_5.pt"


@pytest.mark.parametrize(
  ("run", "checkpoint", "message"),
  [
    ("2024-09-09_00-00-00", "-1", "not found.*available: 2024-01-01"),
    ("2024-01-01_00-00-00", "7", "model_7.pt not found.*model_0.pt, model_5.pt"),
    ("2024-01-03_00-00-00", "-1", "holds no model"),
  ],
)
def test_missing_run_or_checkpoint_names_what_exists(tmp_path, run, checkpoint, message):
  exp = _runs(tmp_path)
  with pytest.raises(CheckpointError, match=message):
    ckpt.resolve_checkpoint(exp, run, checkpoint)


def test_no_experiment_folder(tmp_path):
  with pytest.raises(CheckpointError, match="train first"):
    ckpt.resolve_checkpoint(tmp_path / "nothing", "-1", "-1")


def test_atomic_write_leaves_target_untouched_when_the_write_fails(tmp_path):
  target = tmp_path / "model_1.pt"
  ckpt.atomic_torch_save({"x": 1}, target)

  def boom(tmp: Path) -> None:
    tmp.write_bytes(b"half a checkpo")
    raise KeyboardInterrupt  # killed mid-write

  with pytest.raises(KeyboardInterrupt):
    ckpt.atomic_write(target, boom)
  assert torch.load(target) == {"x": 1}
  assert sorted(p.name for p in tmp_path.iterdir()) == ["model_1.pt"]


def test_truncated_and_foreign_files_are_rejected(tmp_path):
  good = tmp_path / "model_3.pt"
  torch.save(_state(), good)
  truncated = tmp_path / "model_4.pt"
  truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
  with pytest.raises(CheckpointError, match="truncated"):
    ckpt.read_checkpoint(truncated)
  foreign = tmp_path / "model_5.pt"
  torch.save({"model": torch.zeros(3)}, foreign)
  with pytest.raises(CheckpointError, match="not a st_rl/rsl_rl checkpoint"):
    ckpt.read_checkpoint(foreign)
  assert ckpt.read_checkpoint(good)["iter"] == 0


def test_sizes_are_read_from_weights_and_checked():
  state = _state(obs=7, act=3)
  assert ckpt.policy_io_dims(state["actor_state_dict"]) == (7, 3)
  rnn = dict(state["actor_state_dict"], **{"rnn.rnn.weight_ih_l0": torch.zeros(64, 11)})
  assert ckpt.policy_io_dims(rnn) == (11, 3)
  ckpt.check_fits(Path("m.pt"), state, 7, 3)
  with pytest.raises(CheckpointError, match=r"7 observations and 3 actions.*9 observations and 3"):
    ckpt.check_fits(Path("m.pt"), state, 9, 3)
