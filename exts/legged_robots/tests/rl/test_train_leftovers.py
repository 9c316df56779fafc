"""A training that stops before its first checkpoint leaves no run folder behind.

Such folders (params/ and nothing else) used to be offered by later -1 lookups and
"available:" lists."""

from __future__ import annotations

import pytest

from legged_robots.rl.train import TrainOptions, run_train


def test_a_run_that_crashes_before_its_first_checkpoint_removes_its_folder(tmp_path, monkeypatch):
  from legged_robots.rl.runner import StRlOnPolicyRunner

  def crash(self, *args, **kwargs):
    raise RuntimeError("simulated crash in the first iteration")

  monkeypatch.setattr(StRlOnPolicyRunner, "learn", crash)
  opts = TrainOptions(task="Flat-G1", num_envs=2, max_iterations=1, device="cpu", log_root=str(tmp_path))
  with pytest.raises(RuntimeError, match="simulated crash"):
    run_train(opts)
  assert list((tmp_path / "g1_flat").iterdir()) == []
