"""benchmarks/time_to_walk.py --runner skrl: two sessions of skrl PPO on CPU (pause on the
budget, resume, evaluate, stop at the iteration cap), and a first checkpoint that passes."""

from __future__ import annotations

import json

import pytest
import torch
from preloaded import Launcher  # same folder (pytest puts it on sys.path)
from test_time_to_walk import ENV, _run

pytestmark = pytest.mark.slow

SKRL_TINY = [
  "--runner", "skrl", "--num_envs", "4", "--eval-envs", "8", "--eval-every", "2", "--episode-s", "0.5",
  "--device", "cpu", "agent.agent.rollouts=8",
]  # fmt: skip


@pytest.fixture(scope="module")
def launcher(launch) -> Launcher:
  return launch(ENV)


def test_skrl_sessions_resume_and_continue_the_iteration_count(launcher, tmp_path):
  run_dir = tmp_path / "run"
  first = _run(launcher, run_dir, *SKRL_TINY, "--budget-s", "1")
  assert first.returncode == 3, first.stdout[-3000:] + first.stderr[-3000:]
  state = json.loads((run_dir / "state.json").read_text())
  assert state["settings"]["runner"] == "skrl"
  assert [(c["iteration"], c["evaluation"]) for c in state["checkpoints"]] == [(1, None)]
  second = _run(launcher, run_dir, *SKRL_TINY, "--budget-s", "600", "--max-iterations", "4")
  assert second.returncode == 1, second.stdout[-3000:] + second.stderr[-3000:]
  assert "resuming from" in second.stdout and "model_1.pt" in second.stdout
  state = json.loads((run_dir / "state.json").read_text())
  # Session 2 evaluated checkpoint 1, trained 2-3 (not 0-1 again), evaluated 3.
  assert [c["iteration"] for c in state["checkpoints"]] == [1, 3]
  assert all(c["evaluation"]["episodes"] == 8 for c in state["checkpoints"])
  assert [it for it, _, _ in state["curve"]] == [0, 1, 2, 3]
  assert torch.load(run_dir / "train" / "model_3.pt", weights_only=False)["st_gym"]["iteration"] == 3
  assert (run_dir / "train" / "params" / "agent.yaml").is_file()
  assert json.loads((run_dir / "results.json").read_text())["status"] == "not_walking"
  # A resume with the other runner is another run.
  other = _run(launcher, run_dir, *SKRL_TINY[2:], "--budget-s", "600", "--max-iterations", "4")
  assert other.returncode == 2 and "runner: 'skrl' -> 'st_rl'" in other.stderr, other.stderr[-2000:]


def test_a_passing_skrl_checkpoint_stops_the_run_and_exports_it(launcher, tmp_path):
  run_dir = tmp_path / "walks"
  args = [*SKRL_TINY, "--eval-every", "1", "--max-fall", "1.0", "--max-lin-err", "100"]
  result = _run(launcher, run_dir, *args, "--max-iterations", "3")
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  results = json.loads((run_dir / "results.json").read_text())
  assert results["status"] == "walked" and results["walking_iteration"] == 0
  assert (run_dir / "walking_policy" / "policy.onnx").is_file()
  assert (run_dir / "walking_policy" / "deploy.yaml").is_file()


def test_skrl_amp_trains_on_an_amp_task_and_is_its_own_run(launcher, tmp_path):
  run_dir = tmp_path / "amp"
  small = ["agent.motion_dataset.memory_size=2048", "agent.reply_buffer.memory_size=4096"]
  amp = [*SKRL_TINY, "--algorithm", "AMP", "--eval-every", "1", *small]
  result = _run(launcher, run_dir, *amp, "--max-iterations", "1", task="Amp-Flat-G1")
  assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
  state = json.loads((run_dir / "state.json").read_text())
  assert (state["settings"]["runner"], state["settings"]["algorithm"]) == ("skrl", "AMP")
  assert [c["iteration"] for c in state["checkpoints"]] == [0]
  checkpoint = torch.load(run_dir / "train" / "model_0.pt", weights_only=False)
  assert checkpoint["st_gym"]["algorithm"] == "AMP" and "discriminator" in checkpoint
  # Resuming it with skrl's PPO is another run.
  other = _run(launcher, run_dir, *SKRL_TINY, "--max-iterations", "2", task="Amp-Flat-G1")
  assert other.returncode == 2 and "algorithm: 'AMP' -> 'PPO'" in other.stderr, other.stderr[-2000:]


@pytest.mark.parametrize(
  ("args", "message"),
  [
    (["--runner", "skrl", "--algorithm", "AMP"], "--algorithm AMP: task Flat-G1 has no reference motions"),
    (["--algorithm", "AMP"], "--algorithm chooses skrl's agent (with --runner skrl)"),
  ],
)
def test_amp_where_it_cannot_run_is_refused_before_anything_is_written(launcher, tmp_path, args, message):
  result = _run(launcher, tmp_path / "run", *args, "--device", "cpu", "--num_envs", "4")
  assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
  assert "Traceback" not in result.stderr
  assert not (tmp_path / "run").exists()
