"""Multi-process training on CPU: two gloo processes under torchrun train Flat-G1 and
AMP for 2 iterations; both ranks end with the same policy (parameters and normalizer
buffers), and only rank 0 writes a run folder."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest
from test_st_rl_scripts import ENV, ROOT  # same folder (pytest puts it on sys.path)

pytestmark = pytest.mark.slow


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


@pytest.mark.parametrize(
  ("task", "extra"), [("Flat-G1", []), ("Amp-Flat-G1", ["agent.amp.replay_buffer_size=1000"])]
)
def test_two_ranks_train_the_same_policy_and_only_rank_0_writes(tmp_path, task, extra):
  cmd = [
    sys.executable,
    "-m",
    "torch.distributed.run",
    "--nproc_per_node",
    "2",
    "--master_port",
    str(_free_port()),
  ]
  cmd += [str(ROOT / "scripts/st_rl/train.py"), "--task", task, "--distributed", "--num_envs", "4"]
  cmd += ["--max_iterations", "2", "--log_root", str(tmp_path), "agent.num_steps_per_env=8", *extra]
  result = subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=900)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  sums = dict(re.findall(r"rank (\d)/2: parameter checksum (\S+)", result.stdout))
  assert set(sums) == {"0", "1"} and sums["0"] == sums["1"], sums
  (experiment,) = tmp_path.iterdir()
  (run_dir,) = experiment.iterdir()  # one run folder: rank 1 wrote nothing
  assert sorted(p.name for p in run_dir.glob("model_*.pt")) == ["model_0.pt", "model_1.pt"]
  assert (run_dir / "exported" / "policy.onnx").is_file()


def test_distributed_without_torchrun_names_the_launch(tmp_path):
  cmd = [sys.executable, str(ROOT / "scripts/st_rl/train.py"), "--task", "Flat-G1", "--distributed"]
  cmd += ["--log_root", str(tmp_path)]
  result = subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 2 and "./run.sh -g N" in result.stderr
  assert not any(tmp_path.iterdir())
