"""benchmarks/time_to_walk.py: pass/stop/budget logic on fake numbers, the one-episode-per-env
evaluation, and the CLI across sessions (resume, pass + export, bad inputs) on CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from preloaded import Launcher  # same folder (pytest puts it on sys.path)

from legged_robots.evaluation.metrics import EpisodeMetrics
from legged_robots.evaluation.time_to_walk import (
  ESTIMATE_MARGIN,
  EXIT_RESERVE_S,
  Action,
  CheckpointRecord,
  Evaluation,
  Limits,
  RunState,
  Settings,
  chunk_iterations,
  load_state,
  new_or_resumed_state,
  next_action,
  passes,
  save_state,
)
from legged_robots.rl.errors import StRlError

ROOT = Path(__file__).resolve().parents[2]
ENV = {
  **os.environ,
  "CUDA_VISIBLE_DEVICES": "",
  "MUJOCO_GL": "osmesa",
  "PYOPENGL_PLATFORM": "osmesa",
  "MJLAB_WARP_QUIET": "1",
}
TINY = [
  "--num_envs", "4", "--eval-envs", "8", "--eval-every", "2", "--episode-s", "0.5", "--device", "cpu",
  "agent.num_steps_per_env=8",
]  # fmt: skip
SETTINGS = Settings("Flat-G1", 4096, 1000, 50, 20.0, 0.05, 0.2, "cuda:0", None, ())


def _evaluation(fall: float, lin: float, passed: bool) -> Evaluation:
  return Evaluation(1000, fall, lin, 0.1, 19.0, 8.0, passed)


def _state(*checkpoints: CheckpointRecord, **kw) -> RunState:
  return RunState(settings=SETTINGS, checkpoints=list(checkpoints), **kw)


# ---- pure logic -------------------------------------------------------------------------------


def test_pass_needs_both_thresholds_inclusive():
  assert passes(0.05, 0.2, SETTINGS)
  assert not passes(0.0501, 0.1, SETTINGS)
  assert not passes(0.0, 0.2001, SETTINGS)


def test_chunks_end_at_multiples_of_eval_every_or_the_cap():
  assert chunk_iterations(0, 50, None) == 50  # iterations 0..49 -> checkpoint model_49
  assert chunk_iterations(50, 50, None) == 50
  assert chunk_iterations(37, 50, None) == 13  # a resumed run realigns to 49 + 50k
  assert chunk_iterations(0, 50, 30) == 30
  assert chunk_iterations(2, 2, 3) == 1


def test_next_action_evaluates_pending_checkpoint_then_trains_then_stops_at_limits():
  limits = Limits(budget_s=540.0, max_wall_s=900.0)
  assert next_action(_state(), limits, 0.0, progressed=False) is Action.TRAIN
  pending = CheckpointRecord(49, "train/model_49.pt", 100.0)
  assert next_action(_state(pending), limits, 0.0, False) is Action.EVALUATE
  failed = CheckpointRecord(49, "train/model_49.pt", 100.0, _evaluation(0.5, 0.6, False))
  assert next_action(_state(failed, train_wall_s=100.0), limits, 0.0, True) is Action.TRAIN
  # The training wall-clock limit or the iteration cap ends the run ...
  assert next_action(_state(failed, train_wall_s=900.0), limits, 0.0, True) is Action.LIMIT
  assert next_action(_state(failed), replace(limits, max_iterations=50), 0.0, True) is Action.LIMIT
  # ... but a checkpoint written before it still gets its evaluation.
  assert next_action(_state(pending, train_wall_s=950.0), limits, 0.0, True) is Action.EVALUATE
  walked = replace(failed, evaluation=_evaluation(0.01, 0.1, True))
  assert next_action(_state(failed, walked), limits, 0.0, True) is Action.WALKED


def test_budget_admits_a_step_only_if_its_estimate_fits_except_the_first_of_a_session():
  failed = CheckpointRecord(49, "train/model_49.pt", 100.0, _evaluation(0.5, 0.6, False))
  state = _state(failed, s_per_iter=0.5)  # next chunk: 50 iterations -> 25 s estimated
  planned = 25.0 * ESTIMATE_MARGIN + EXIT_RESERVE_S
  assert next_action(state, Limits(200.0 + planned, 900.0), 200.0, True) is Action.TRAIN
  assert next_action(state, Limits(199.9 + planned, 900.0), 200.0, True) is Action.PAUSE
  # The first step of a session always runs, so every session advances the run.
  assert next_action(state, Limits(10.0, 900.0), 200.0, False) is Action.TRAIN
  pending = CheckpointRecord(99, "train/model_99.pt", 130.0)
  state = _state(failed, pending, eval_s=8.0)
  planned = 8.0 * ESTIMATE_MARGIN + EXIT_RESERVE_S
  assert next_action(state, Limits(300.0 + planned, 900.0), 300.0, True) is Action.EVALUATE
  assert next_action(state, Limits(300.0 + planned - 0.1, 900.0), 300.0, True) is Action.PAUSE
  # An unknown duration (the run's first eval) counts as 0 s.
  state = _state(pending)
  assert next_action(state, Limits(300.0 + EXIT_RESERVE_S, 900.0), 300.0, True) is Action.EVALUATE
  assert next_action(state, Limits(300.0 + EXIT_RESERVE_S - 0.1, 900.0), 300.0, True) is Action.PAUSE


def test_state_round_trip_and_resume_checks(tmp_path):
  ckpt = CheckpointRecord(49, "train/model_49.pt", 61.5, _evaluation(0.2, 0.4, False))
  state = _state(
    ckpt, session_starts=[(0.0, 20.0)], train_wall_s=61.5, eval_wall_s=9.0, s_per_iter=0.6, eval_s=8.0
  )
  state.curve = [(0, 20.0, None), (49, 61.0, 3.5)]
  save_state(state, tmp_path)
  assert load_state(tmp_path / "state.json") == state
  with pytest.raises(StRlError, match=r"resumes from train/model_49\.pt, which is missing"):
    new_or_resumed_state(tmp_path, SETTINGS)
  (tmp_path / "train").mkdir()
  (tmp_path / "train" / "model_49.pt").write_bytes(b"x")  # read (and checked) when a session starts
  assert new_or_resumed_state(tmp_path, SETTINGS) == state
  with pytest.raises(StRlError, match=r"num_envs: 4096 -> 1024; overrides: \(\) -> \('a=1',\)"):
    new_or_resumed_state(tmp_path, replace(SETTINGS, num_envs=1024, overrides=("a=1",)))
  assert new_or_resumed_state(tmp_path / "new", SETTINGS) == RunState(settings=SETTINGS)


@pytest.mark.parametrize(
  "text",
  ["{not json", "[]", '{"format": 2}', "{}"],
)
def test_corrupt_state_is_a_clear_error(tmp_path, text):
  save_state(_state(), tmp_path)
  if text == "{}":  # valid JSON with a field of the wrong type
    data = json.loads((tmp_path / "state.json").read_text())
    data["train_wall_s"] = "soon"
    text = json.dumps(data)
  (tmp_path / "state.json").write_text(text)
  with pytest.raises(StRlError, match="corrupt or not a time_to_walk state"):
    load_state(tmp_path / "state.json")


def test_metrics_with_active_mask_count_only_first_episodes():
  m = EpisodeMetrics(num_envs=2, reward_terms=["a"], step_dt=0.5)
  no = torch.tensor([False, False])
  cmd = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
  vel = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 1.0]])  # lin errors 1 and 0, yaw 0 and 1
  active = torch.tensor([True, True])
  m.step(torch.tensor([[1.0], [2.0]]), torch.tensor([True, False]), no, cmd, vel, active=active)
  active = torch.tensor([False, True])  # env 0 fell at step 1: its later episodes are ignored
  m.step(torch.tensor([[9.0], [2.0]]), no, no, cmd, vel * 3, active=active)  # env 1: lin 2, yaw 3
  m.step(torch.tensor([[9.0], [2.0]]), torch.tensor([True, True]), torch.tensor([True, True]), active=active)
  s = m.summary()
  assert s["episodes"] == 2
  assert s["fall_rate"] == pytest.approx(0.5)
  assert s["episode_length_s"] == pytest.approx((1 * 0.5 + 3 * 0.5) / 2)
  # tracked (live, active) samples: env 1 step 1 (0, 1) and step 2 (2, 3)
  assert s["lin_vel_error"] == pytest.approx(2 / 2)
  assert s["yaw_rate_error"] == pytest.approx(4 / 2)
  assert s["rewards"]["a"] == pytest.approx((1.0 + 6.0) / 2)


# ---- evaluation on the real env ---------------------------------------------------------------


def test_eval_env_uses_training_commands_without_noise_or_pushes():
  from legged_robots.evaluation.walk_eval import eval_env_cfg
  from legged_robots.rl.task_cfg import load_task_cfgs

  train = load_task_cfgs("Flat-G1", play=False).env
  play = load_task_cfgs("Flat-G1", play=True).env
  train.commands["base_velocity"].ranges.lin_vel_x = (-0.25, 0.75)  # as an override would
  cfg = eval_env_cfg(play, train, 7, 3.0)
  command = cfg.commands["base_velocity"]
  assert command.ranges.lin_vel_x == (-0.25, 0.75)
  assert command.resampling_time_range == train.commands["base_velocity"].resampling_time_range == (5.0, 10.0)
  assert play.commands["base_velocity"].resampling_time_range[0] > play.episode_length_s  # what play changes
  assert not cfg.observations["actor"].enable_corruption
  assert "push_robot" not in cfg.events and "external_force_torque" not in cfg.events
  assert cfg.terminations.keys() == train.terminations.keys()
  assert (cfg.scene.num_envs, cfg.episode_length_s) == (7, 3.0)


class _ConstantPolicy:
  """Joint targets far from the default pose: the G1 falls within a few steps."""

  def __init__(self, num_envs: int, num_actions: int, value: float) -> None:
    self.actions = torch.full((num_envs, num_actions), value)

  def __call__(self, obs):
    return self.actions

  def reset(self, dones=None) -> None:
    pass


@pytest.mark.slow
def test_evaluation_counts_exactly_one_episode_per_env():
  from mjlab.envs import ManagerBasedRlEnv
  from mjlab.rl import RslRlVecEnvWrapper

  from legged_robots.evaluation.walk_eval import eval_env_cfg, evaluate_first_episodes
  from legged_robots.rl.task_cfg import load_task_cfgs

  train = load_task_cfgs("Flat-G1", play=False).env
  play = load_task_cfgs("Flat-G1", play=True).env
  env = ManagerBasedRlEnv(cfg=eval_env_cfg(play, train, 8, 1.0), device="cpu")
  try:
    wrapped = RslRlVecEnvWrapper(env)
    policy = _ConstantPolicy(8, env.action_manager.total_action_dim, 5.0)
    for _ in range(2):  # a second evaluation on the same env starts from a full reset again
      summary = evaluate_first_episodes(wrapped, policy)
      assert summary["steps"] == env.max_episode_length == 50
      assert summary["episodes_ended"] > 8  # envs fell, restarted and fell again ...
      assert summary["episodes"] == 8  # ... but each env's first episode alone counts
      assert summary["fall_rate"] == 1.0
      assert summary["episode_length_s"] < 1.0
  finally:
    env.close()


# ---- the command line -------------------------------------------------------------------------


def _run(launcher: Launcher, run_dir: Path, *args: str, task: str = "Flat-G1") -> subprocess.CompletedProcess:
  cmd = [
    sys.executable,
    str(ROOT / "benchmarks" / "time_to_walk.py"),
    "--task",
    task,
    "--run-dir",
    str(run_dir),
  ]
  return launcher.run([*cmd, *args], cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def launcher(launch) -> Launcher:
  return launch(ENV)


def _state_json(run_dir: Path) -> dict:
  return json.loads((run_dir / "state.json").read_text())


@pytest.fixture(scope="module")
def two_sessions(launcher, tmp_path_factory) -> tuple[Path, dict, subprocess.CompletedProcess]:
  """Session 1 stops on a 1 s budget after its first chunk; session 2 runs to a 4-iteration cap."""
  run_dir = tmp_path_factory.mktemp("ttw") / "run"
  first = _run(launcher, run_dir, *TINY, "--budget-s", "1")
  assert first.returncode == 3, first.stdout[-3000:] + first.stderr[-3000:]
  after_first = _state_json(run_dir)
  second = _run(launcher, run_dir, *TINY, "--budget-s", "600", "--max-iterations", "4", "--print-every", "1")
  assert second.returncode == 1, second.stdout[-3000:] + second.stderr[-3000:]
  assert "no checkpoint passed within --max-iterations 4 (" in second.stdout  # not "within 0:15:00"
  return run_dir, after_first, second


@pytest.mark.slow
def test_second_session_resumes_where_the_first_stopped(two_sessions):
  run_dir, first, second = two_sessions
  # Session 1: one chunk (iterations 0-1), then the budget stopped it before the evaluation.
  assert len(first["session_starts"]) == 1
  assert [(c["iteration"], c["evaluation"]) for c in first["checkpoints"]] == [(1, None)]
  assert [it for it, _, _ in first["curve"]] == [0, 1]
  state = _state_json(run_dir)
  assert [wall for wall, _ in state["session_starts"]] == [0.0, first["train_wall_s"]]
  assert "resuming from" in second.stdout and "model_1.pt" in second.stdout
  # Session 2 evaluated checkpoint 1, trained 2-3 (not 0-1 again), evaluated 3, hit the cap.
  assert [c["iteration"] for c in state["checkpoints"]] == [1, 3]
  assert all(c["evaluation"]["episodes"] == 8 for c in state["checkpoints"])
  assert [it for it, _, _ in state["curve"]] == [0, 1, 2, 3]
  progress = [ln.split("]")[0] for ln in second.stdout.splitlines() if ln.startswith("[it ")]
  assert progress == ["[it 2", "[it 3"]
  assert torch.load(run_dir / "train" / "model_3.pt", weights_only=False)["iter"] == 3
  # Wall-clock accumulates over sessions: session 2's setup and training add to session 1's.
  stamps = [c["train_wall_s"] for c in state["checkpoints"]]
  assert stamps[0] == first["checkpoints"][0]["train_wall_s"]
  assert first["train_wall_s"] <= stamps[0] < state["curve"][2][1] < stamps[1] == state["train_wall_s"]
  assert state["eval_wall_s"] > first["eval_wall_s"]
  results = json.loads((run_dir / "results.json").read_text())
  assert results["status"] == "not_walking" and results["time_to_walk_s"] is None
  assert results["sessions"] == 2 and len(results["checkpoints"]) == 2
  assert (run_dir / "time_to_walk.png").stat().st_size > 10_000
  assert not (run_dir / "walking_policy").exists()


@pytest.mark.slow
def test_resume_with_other_settings_is_exit_2(launcher, two_sessions):
  # Missing checkpoints and a corrupt state.json raise the same StRlError (exit 2) before
  # anything is built: see test_state_round_trip_and_resume_checks / test_corrupt_state_*.
  run_dir, _, _ = two_sessions
  before = (run_dir / "state.json").read_text()
  other = [a if a != "8" else "16" for a in TINY]  # --eval-envs 16
  result = _run(launcher, run_dir, *other, "--max-iterations", "4")
  assert result.returncode == 2
  assert "eval_envs: 8 -> 16" in result.stderr and "--run-dir" in result.stderr
  assert (run_dir / "state.json").read_text() == before


@pytest.mark.slow
def test_first_passing_checkpoint_stops_and_exports(launcher, tmp_path):
  import onnxruntime as ort

  run_dir = tmp_path / "walks"
  args = [*TINY, "--eval-every", "1", "--max-fall", "1.0", "--max-lin-err", "100"]
  result = _run(launcher, run_dir, *args)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  state = _state_json(run_dir)
  (ckpt,) = state["checkpoints"]  # iteration 0 passed: training stopped there
  assert ckpt["iteration"] == 0 and ckpt["evaluation"]["passed"]
  results = json.loads((run_dir / "results.json").read_text())
  assert results["status"] == "walked" and results["walking_iteration"] == 0
  assert results["time_to_walk_s"] == ckpt["train_wall_s"] > 0
  assert "TIME TO WALK" in result.stdout
  session = ort.InferenceSession(str(run_dir / "walking_policy" / "policy.onnx"))
  assert session.get_modelmeta().custom_metadata_map["iteration"] == "0"
  assert (run_dir / "walking_policy" / "deploy.yaml").is_file()
  again = _run(launcher, run_dir, *args)  # a finished run only reports
  assert again.returncode == 0 and "TIME TO WALK" in again.stdout
  assert len(_state_json(run_dir)["session_starts"]) == 1


@pytest.mark.slow
def test_unknown_task_is_exit_2_and_writes_nothing(launcher, tmp_path):
  result = _run(launcher, tmp_path / "run", *TINY, task="Flat-G2")
  assert result.returncode == 2
  assert "Unknown task id 'Flat-G2'" in result.stderr and "Flat-G1" in result.stderr
  assert not (tmp_path / "run").exists()
  nan = _run(launcher, tmp_path / "run", *TINY, "env.rewards.alive.weight=nan")  # trained before
  assert nan.returncode == 2 and "env.rewards.alive.weight is nan" in nan.stderr, nan.stderr[-2000:]
  assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
  ("flags", "says"),
  [
    (["--max-fall", "2"], "--max-fall is a fall rate, from 0 to 1; got 2.0"),
    (["--max-fall", "nan"], "--max-fall is a fall rate"),
    (["--max-lin-err", "-1"], "--max-lin-err must be positive, got -1.0"),
    (["--max-wall-min", "nan"], "--max-wall-min must be positive, got nan"),
  ],
)
def test_bad_thresholds_are_refused_before_anything_runs(capsys, flags, says):
  """Each of these trained (a walking criterion no run can meet, or none at all)."""
  import importlib.util

  spec = importlib.util.spec_from_file_location("ttw_cli", ROOT / "benchmarks" / "time_to_walk.py")
  assert spec is not None and spec.loader is not None
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  with pytest.raises(SystemExit) as exit_:
    module.parse_args(["--task", "Flat-G1", "--run-dir", "unused", *flags])
  assert exit_.value.code == 2 and says in capsys.readouterr().err
