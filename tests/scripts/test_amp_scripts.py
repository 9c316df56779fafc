"""End to end for AMP: a 2-iteration Amp-Flat-G1 run writes the discriminator into its
checkpoints, resumes with the iteration count going on, exports, and its export passes
sim2sim parity like a velocity policy; a bad motion file exits 2 with nothing written."""

from __future__ import annotations

import sys

import pytest
import torch
from preloaded import Launcher  # same folder (pytest puts it on sys.path)
from test_st_rl_scripts import ENV, ROOT, _cmd, _run, _snapshot

TASK = "Amp-Flat-G1"
FAST = [
  "--num_envs",
  "4",
  "agent.num_steps_per_env=8",
  "agent.save_interval=1",
  "agent.amp.replay_buffer_size=4096",
]
AMP_KEYS = {"discriminator_state_dict", "amp_optimizer_state_dict", "amp_normalizer_state_dict"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def launcher(launch) -> Launcher:
  return launch(ENV)


def test_amp_trains_resumes_exports_and_passes_parity(launcher, tmp_path):
  log_root = tmp_path / "logs"
  first = _run(launcher, "train.py", log_root, "--max_iterations", "2", "--run_name", "a", *FAST, task=TASK)
  assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
  (run_dir,) = (log_root / "g1_amp_flat").iterdir()
  state = torch.load(run_dir / "model_1.pt", weights_only=False)
  assert set(state) >= AMP_KEYS and state["iter"] == 1
  disc = state["discriminator_state_dict"]
  # 2 frames x (1 + 3 + 3 + 3 + 29 + 29) = 136 inputs, hidden (1024, 512), one logit.
  assert disc["trunk.0.weight"].shape == (1024, 136) and disc["head.weight"].shape == (1, 512)

  resumed = _run(
    launcher,
    "train.py",
    log_root,
    "--max_iterations",
    "1",
    "--resume",
    "--load_run",
    run_dir.name,
    "--run_name",
    "b",
    *FAST,
    task=TASK,
  )
  assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
  (second,) = [p for p in (log_root / "g1_amp_flat").iterdir() if p != run_dir]
  assert sorted(p.name for p in second.glob("model_*.pt")) == ["model_2.pt"]
  again = torch.load(second / "model_2.pt", weights_only=False)
  assert again["iter"] == 2 and set(again) >= AMP_KEYS

  cmd = [sys.executable, str(ROOT / "scripts" / "st_rl" / "sim2sim.py"), "--task", TASK]
  cmd += ["--policy", str(second / "exported")]
  parity = launcher.run(cmd, cwd=ROOT, timeout=600)
  assert parity.returncode == 0, parity.stdout[-3000:] + parity.stderr[-3000:]


def test_bad_motion_file_exits_2_and_writes_nothing(launcher, tmp_path):
  log_root = tmp_path / "logs"
  log_root.mkdir()
  before = _snapshot(log_root)
  args = ["--max_iterations", "1", *FAST, "env.motion.files=[/no/such.npz]"]
  result = _run(launcher, "train.py", log_root, *args, task=TASK)
  assert result.returncode == 2
  assert "Traceback" not in result.stderr
  errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error")]
  assert errors == ["error: /no/such.npz: file: does not exist. Fix: check env.motion.files"]
  assert _snapshot(log_root) == before


def test_resuming_an_amp_run_from_a_ppo_checkpoint_names_the_missing_state(launcher, tmp_path):
  import shutil

  log_root = tmp_path / "logs"
  ppo = _run(launcher, "train.py", log_root, "--max_iterations", "1", *FAST[:-1], task="Flat-G1")
  assert ppo.returncode == 0, ppo.stderr[-3000:]
  (run_dir,) = (log_root / "g1_flat").iterdir()
  # A run of the other task is refused by its recorded task; a bare checkpoint (no
  # params/, no export: nothing says its task) reaches the AMP state check.
  bare = log_root / "g1_amp_flat" / "bare"
  bare.mkdir(parents=True)
  shutil.copy(run_dir / "model_0.pt", bare / "model_0.pt")
  before = _snapshot(log_root)
  cases = {str(run_dir): "was trained on task Flat-G1", str(bare): "no AMP state"}
  args = ["--max_iterations", "1", "--resume", *FAST]
  cmds = [_cmd("train.py", log_root, *args, "--load_run", load_run, task=TASK) for load_run in cases]
  for message, result in zip(cases.values(), launcher.run_all(cmds, cwd=ROOT, timeout=600), strict=True):
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert message in result.stderr
  assert _snapshot(log_root) == before


def test_style_walk_shorter_than_its_warm_up_is_bad_input(launcher, tmp_path):
  result = _run(launcher, "play.py", tmp_path, "--style_duration_s", "1", task=TASK)
  assert result.returncode == 2 and "Traceback" not in result.stderr
  assert "must exceed the style walk's 1.0 s warm-up" in result.stderr
