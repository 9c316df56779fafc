"""benchmarks/time_to_walk.py under torchrun: two gloo processes train together, rank 0
evaluates, keeps state.json and decides, rank 1 follows; a second launch resumes."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from test_distributed import _free_port  # same folder (pytest puts it on sys.path)
from test_time_to_walk import ENV, ROOT, TINY

pytestmark = pytest.mark.slow


def _torchrun(run_dir, *args: str, base: list[str] = TINY) -> subprocess.CompletedProcess:
  cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
  cmd += ["--master_port", str(_free_port()), str(ROOT / "benchmarks" / "time_to_walk.py"), "--distributed"]
  cmd += ["--task", "Flat-G1", "--run-dir", str(run_dir), *base, *args]
  return subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=900)


def _checksums(stdout: str) -> dict[str, str]:
  sums = dict(re.findall(r"\[ttw\] rank (\d)/2: parameter checksum ([-+.0-9e]+)", stdout))
  assert set(sums) == {"0", "1"} and sums["0"] == sums["1"], stdout[-3000:]
  return sums


def test_two_ranks_train_rank_0_decides_and_a_second_launch_resumes(tmp_path):
  run_dir = tmp_path / "run"
  # Session 1: one chunk (iterations 0-1) on both ranks, then the 1 s budget pauses the run
  # (exit 3 on every rank, which torchrun reports as a failure of its own).
  first = _torchrun(run_dir, "--budget-s", "1")
  assert first.returncode != 0 and "session budget used" in first.stdout, first.stdout[-3000:]
  first_sums = _checksums(first.stdout)
  state = json.loads((run_dir / "state.json").read_text())
  assert state["settings"]["nproc"] == 2 and state["settings"]["num_envs"] == 4
  assert [(c["iteration"], c["evaluation"]) for c in state["checkpoints"]] == [(1, None)]
  # Session 2: evaluates checkpoint 1, trains 2-3 on both ranks, evaluates 3, hits the cap.
  second = _torchrun(run_dir, "--budget-s", "600", "--max-iterations", "4")
  assert second.returncode != 0 and "no checkpoint passed" in second.stdout, second.stdout[-3000:]
  assert "resuming from" in second.stdout and "model_1.pt" in second.stdout
  assert _checksums(second.stdout) != first_sums  # both ranks went on from model_1.pt
  state = json.loads((run_dir / "state.json").read_text())
  assert [c["iteration"] for c in state["checkpoints"]] == [1, 3]
  assert all(c["evaluation"]["episodes"] == 8 for c in state["checkpoints"])  # rank 0's eval envs
  assert [it for it, _, _ in state["curve"]] == [0, 1, 2, 3] and len(state["session_starts"]) == 2
  assert json.loads((run_dir / "results.json").read_text())["status"] == "not_walking"
  # Only rank 0 wrote: one TensorBoard file per session, the checkpoints of one process
  # (rsl_rl also saves iteration 0).
  models = sorted(p.name for p in (run_dir / "train").glob("model_*.pt"))
  assert models == ["model_0.pt", "model_1.pt", "model_3.pt"]
  assert len(list((run_dir / "train").glob("events.out.tfevents.*"))) == 2


def test_a_resume_with_another_process_count_is_exit_2(tmp_path):
  from legged_robots.evaluation.time_to_walk import RunState, Settings, save_state

  run_dir = tmp_path / "run"
  run_dir.mkdir()
  # The state TINY starts on one process (no checkpoint yet).
  one = Settings("Flat-G1", 4, 8, 2, 0.5, 0.05, 0.2, "cpu", None, ("agent.num_steps_per_env=8",))
  save_state(RunState(settings=one), run_dir)
  before = (run_dir / "state.json").read_text()
  result = _torchrun(run_dir, "--budget-s", "600")
  assert result.returncode != 0 and "nproc: 1 -> 2" in result.stderr, result.stderr[-3000:]
  assert (run_dir / "state.json").read_text() == before and sorted(p.name for p in run_dir.iterdir()) == [
    "state.json"
  ]


def test_two_skrl_ranks_train_together_and_rank_0_writes(tmp_path):
  run_dir = tmp_path / "run"
  args = ["--runner", "skrl", "--max-iterations", "2", "--budget-s", "600", "agent.agent.rollouts=8"]
  result = _torchrun(run_dir, *args, base=[a for a in TINY if not a.startswith("agent.")])
  assert "no checkpoint passed" in result.stdout, result.stdout[-3000:] + result.stderr[-3000:]
  _checksums(result.stdout)
  state = json.loads((run_dir / "state.json").read_text())
  assert state["settings"]["runner"] == "skrl" and state["settings"]["nproc"] == 2
  assert [c["iteration"] for c in state["checkpoints"]] == [1] and state["checkpoints"][0]["evaluation"]
  assert len(list((run_dir / "train").glob("events.out.tfevents.*"))) == 1
