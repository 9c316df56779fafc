"""Multi-process training on CPU: two gloo processes under torchrun train Flat-G1 and
AMP with st_rl, and Flat-G1 with skrl, for 2 iterations; both ranks end with the same
policy (parameters and normalizer/scaler buffers), and only rank 0 writes a run folder."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest
from preloaded import Launcher  # same folder (pytest puts it on sys.path)
from test_st_rl_scripts import ENV, ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _torchrun(script: str, *args: str) -> subprocess.CompletedProcess:
  cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
  cmd += ["--master_port", str(_free_port()), str(ROOT / "scripts" / script), "--distributed", *args]
  result = subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=900)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  return result


def _checksums(stdout: str) -> dict[str, str]:
  """Rank -> parameter checksum; the two ranks must agree."""
  sums = dict(re.findall(r"rank (\d)/2: parameter checksum ([-+.0-9e]+)", stdout))
  assert set(sums) == {"0", "1"} and sums["0"] == sums["1"], sums
  return sums


@pytest.mark.parametrize(
  ("task", "extra"), [("Flat-G1", []), ("Amp-Flat-G1", ["agent.amp.replay_buffer_size=1000"])]
)
def test_two_ranks_train_the_same_policy_and_only_rank_0_writes(tmp_path, task, extra):
  args = ["--task", task, "--num_envs", "4", "--max_iterations", "2", "--log_root", str(tmp_path)]
  _checksums(_torchrun("st_rl/train.py", *args, "agent.num_steps_per_env=8", *extra).stdout)
  (experiment,) = tmp_path.iterdir()
  (run_dir,) = experiment.iterdir()  # one run folder: rank 1 wrote nothing
  assert sorted(p.name for p in run_dir.glob("model_*.pt")) == ["model_0.pt", "model_1.pt"]
  assert (run_dir / "exported" / "policy.onnx").is_file()


def _run_sh(*args: str) -> subprocess.CompletedProcess:
  result = subprocess.run(
    [str(ROOT / "run.sh"), *args], env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=900
  )
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  return result


def test_two_skrl_ranks_train_the_same_policy_only_rank_0_writes_and_resume(tmp_path):
  """./run.sh -r skrl -g 2, then the same with -l -1 (resume the newest run)."""
  args = ["--num_envs", "4", "--max_iterations", "2", "--log_root", str(tmp_path)]
  args += ["agent.agent.rollouts=8", "agent.agent.experiment.checkpoint_interval=8"]
  first = _checksums(_run_sh("-r", "skrl", "-g", "2", "-n", "Flat-G1", "--", *args).stdout)
  (experiment,) = tmp_path.iterdir()
  (run_dir,) = experiment.iterdir()  # one run folder: rank 1 wrote nothing
  assert sorted(p.name for p in run_dir.glob("model_*.pt")) == ["model_0.pt", "model_1.pt"]
  assert (run_dir / "exported" / "policy.onnx").is_file()
  assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1  # rank 0's TensorBoard only
  resumed = _run_sh("-r", "skrl", "-g", "2", "-n", "Flat-G1", "-l", "-1", "--", *args)
  assert _checksums(resumed.stdout) != first  # both ranks went on training from model_1.pt
  runs = sorted(p for p in experiment.iterdir() if p != run_dir)
  assert len(runs) == 1 and sorted(p.name for p in runs[0].glob("model_*.pt")) == ["model_2.pt", "model_3.pt"]


@pytest.fixture(scope="module")
def launcher(launch) -> Launcher:
  return launch(ENV)


@pytest.mark.parametrize(
  ("runner", "command"), [("st_rl", "./run.sh -g N"), ("skrl", "./run.sh -r skrl -g N")]
)
def test_distributed_without_torchrun_names_the_launch(launcher, tmp_path, runner, command):
  cmd = [sys.executable, str(ROOT / "scripts" / runner / "train.py"), "--task", "Flat-G1", "--distributed"]
  cmd += ["--log_root", str(tmp_path)]
  result = launcher.run(cmd, cwd=ROOT, timeout=300)
  assert result.returncode == 2 and command in result.stderr, result.stderr
  assert not any(tmp_path.iterdir())
