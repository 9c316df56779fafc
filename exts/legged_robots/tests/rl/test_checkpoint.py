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


def _run(exp: Path, name: str, task: str, iters: list[int], resumed_from: str | None = None) -> Path:
  run = exp / name
  (run / "params").mkdir(parents=True)
  info = f"task: {task}\n" + (f"resumed_from: {resumed_from}\n" if resumed_from else "")
  (run / "params" / "run.yaml").write_text(info)
  for it in iters:
    torch.save(_state(it=it), run / f"model_{it}.pt")
  return run


def test_minus_one_is_the_newest_run_of_the_task_in_any_experiment(tmp_path):
  """play, resume, sim2mujoco and sweep share this lookup (train/play --task, sim -n)."""
  from legged_robots.deploy.runs import experiment_dirs

  _run(tmp_path / "g1_flat", "2026-01-01_00-00-00", "Flat-G1", [0, 5])
  newest_g1 = _run(tmp_path / "cli_test", "2026-01-15_00-00-00", "Flat-G1", [0, 3])
  _run(tmp_path / "go1_flat", "2026-02-01_00-00-00", "Flat-Go1", [0])
  (tmp_path / "g1_flat" / "2026-03-01_00-00-00" / "params").mkdir(parents=True)  # crashed, no checkpoint
  everywhere = experiment_dirs(tmp_path, None)
  assert ckpt.resolve_checkpoint(everywhere, "-1", "-1", "Flat-G1") == newest_g1 / "model_3.pt"
  assert ckpt.resolve_checkpoint(everywhere, "-1", "-1", "Flat-G1-Play") == newest_g1 / "model_3.pt"
  only = experiment_dirs(tmp_path, "g1_flat")
  assert ckpt.resolve_checkpoint(only, "-1", "-1", "Flat-G1").parent.name == "2026-01-01_00-00-00"
  with pytest.raises(CheckpointError, match=r"available: 2026-01-01_00-00-00 \(runs holding"):
    ckpt.resolve_checkpoint(only, "2026-09-09_00-00-00", "-1", "Flat-G1")  # the crashed run is not offered


def test_a_run_of_another_task_is_one_clear_error(tmp_path):
  """play --task Flat-Go1 with a G1 run used to crash in the action manager."""
  run = _run(tmp_path / "g1_flat", "2026-01-01_00-00-00", "Flat-G1", [0])
  for load_run, checkpoint in ((run.name, "-1"), (str(run), "0"), ("-1", str(run / "model_0.pt"))):
    with pytest.raises(CheckpointError, match=r"trained on task Flat-G1, not Flat-Go1: pass --task Flat-G1"):
      ckpt.resolve_checkpoint(tmp_path / "g1_flat", load_run, checkpoint, "Flat-Go1")


def test_an_iteration_is_found_along_the_resumed_lineage(tmp_path):
  """Each resume is a new folder; --checkpoint <i> still finds model_<i> of the training."""
  exp = tmp_path / "g1_flat"
  first = _run(exp, "2026-01-01_00-00-00", "Flat-G1", [0, 5, 10, 15, 20])
  second = _run(exp, "2026-01-02_00-00-00", "Flat-G1", [11, 15], "g1_flat/2026-01-01_00-00-00/model_10.pt")
  third = _run(exp, "2026-01-03_00-00-00", "Flat-G1", [16], str(second / "model_15.pt"))  # absolute path
  assert ckpt.resolve_checkpoint(exp, "-1", "-1") == third / "model_16.pt"
  assert ckpt.resolve_checkpoint(exp, "-1", "15") == second / "model_15.pt"  # not the first run's
  assert ckpt.resolve_checkpoint(exp, "-1", "5") == first / "model_5.pt"
  assert ckpt.resolve_checkpoint(exp, first.name, "20") == first / "model_20.pt"
  with pytest.raises(
    CheckpointError,
    match=r"model_20\.pt not found.*2026-01-01_00-00-00: model_0\.pt, model_5\.pt, model_10\.pt\. ",
  ):
    ckpt.resolve_checkpoint(exp, "-1", "20")  # model_20 of the first run is not in this lineage
