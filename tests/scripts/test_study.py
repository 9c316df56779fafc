"""scripts/inves_train.py on CPU: a 3-trial x 2-iteration Flat-G1 study, a study killed
mid-trial and resumed, the best-params file training with train.py, and bad inputs."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState
from preloaded import Launcher  # same folder (pytest puts it on sys.path)
from test_st_rl_scripts import ENV, ROOT

from legged_robots.rl.cfg_yaml import load_cfg

TRAIN = [sys.executable, str(ROOT / "scripts" / "st_rl" / "train.py"), "--task", "Flat-G1"]
LR = "agent.algorithm.learning_rate"
SPACE = {
  "task": "Flat-G1",
  "objective": "score",
  "n_trials": 3,
  "tpe_startup_trials": 2,
  "pruner": {"kind": "median", "startup_trials": 2, "warmup_evals": 1},
  "trial": {"num_envs": 4, "eval_envs": 4, "eval_every": 1, "episode_s": 0.2, "max_iterations": 2},
  "overrides": ["agent.num_steps_per_env=4"],
  "params": {
    LR: {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
    "agent.algorithm.num_learning_epochs": {"type": "int", "low": 1, "high": 2},
    "env.scene.num_envs": {"type": "categorical", "choices": [4, 6]},
  },
}


def _space(tmp: Path, name: str = "tiny", **changes) -> Path:
  path = tmp / f"{name}.yaml"
  path.write_text(yaml.safe_dump({**SPACE, **changes}, sort_keys=False))
  return path


def _cmd(tmp: Path, space: Path, *args: str) -> list[str]:
  roots = ["--study_root", str(tmp / "logs" / "studies"), "--log_root", str(tmp / "logs" / "st_rl")]
  return [sys.executable, str(ROOT / "scripts" / "inves_train.py"), "--study", str(space), *roots, *args]


def _run(launcher: Launcher, cmd: list[str]) -> subprocess.CompletedProcess:
  return launcher.run(cmd, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def launcher(launch) -> Launcher:
  return launch(ENV)


def _study(tmp: Path, name: str = "tiny") -> optuna.Study:
  return optuna.load_study(study_name=name, storage=f"sqlite:///{tmp / 'logs' / 'studies' / name}.db")


def _state(run_dir: str) -> dict:
  return json.loads((Path(run_dir) / "state.json").read_text())


@pytest.fixture(scope="module")
def finished_study(launcher, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
  tmp = tmp_path_factory.mktemp("study")
  result = _run(launcher, _cmd(tmp, _space(tmp), "--device", "cpu", "--seed", "3"))
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  return tmp, result


@pytest.mark.slow
def test_three_trial_study_completes(finished_study):
  tmp, result = finished_study
  trials = _study(tmp).trials
  assert [t.number for t in trials] == [0, 1, 2]
  assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
  assert trials[0].state == trials[1].state == TrialState.COMPLETE  # pruner's 2 startup trials
  for t in trials:
    run = Path(t.user_attrs["run_dir"])
    assert run.parent == tmp / "logs" / "st_rl" / "g1_flat" and run.name.endswith(
      f"_study-tiny-trial{t.number}"
    )
    # The run folder is train.py's: params/ holds the trial's values, read back independently.
    agent, env = load_cfg(run / "params" / "agent.yaml"), load_cfg(run / "params" / "env.yaml")
    assert agent.algorithm.learning_rate == t.params[LR]
    assert agent.algorithm.num_learning_epochs == t.params["agent.algorithm.num_learning_epochs"]
    assert env.scene.num_envs == t.params["env.scene.num_envs"] and agent.num_steps_per_env == 4
    assert yaml.safe_load((run / "params" / "run.yaml").read_text()) == {"task": "Flat-G1"}
    checkpoints = _state(str(run))["checkpoints"]
    assert [c["iteration"] for c in checkpoints][: len(t.intermediate_values)] == sorted(
      t.intermediate_values
    )
    if t.state == TrialState.COMPLETE:
      assert (run / "model_1.pt").is_file()
      last = checkpoints[-1]["evaluation"]
      assert t.value == pytest.approx(last["lin_vel_error"] + 1.0 * last["fall_rate"])  # score, fall_weight 1
  out = tmp / "logs" / "studies" / "tiny"
  for name in ("report.md", "trials.csv", "best.yaml", "history.png", "importances.png"):
    assert (out / name).stat().st_size > 0, name
  assert len((out / "trials.csv").read_text().splitlines()) == 4
  values = {t.number: t.value for t in trials if t.state == TrialState.COMPLETE and t.value is not None}
  best = trials[min(values, key=lambda n: values[n])]
  overrides = yaml.safe_load((out / "best.yaml").read_text())
  assert overrides[0] == "agent.num_steps_per_env=4" and f"{LR}={json.dumps(best.params[LR])}" in overrides
  assert f"Best: trial {best.number}" in result.stdout and "## Parameter importances" in result.stdout


@pytest.mark.slow
def test_best_params_file_trains(launcher, finished_study, tmp_path):
  tmp, _ = finished_study
  best = yaml.safe_load((tmp / "logs" / "studies" / "tiny" / "best.yaml").read_text())
  lr = next(float(o.partition("=")[2]) for o in best if o.startswith(LR + "="))
  best_file = str(tmp / "logs" / "studies" / "tiny" / "best.yaml")
  args = ["--device", "cpu", "--params", best_file, "--max_iterations", "1"]
  result = _run(launcher, [*TRAIN, *args, "--log_root", str(tmp_path / "logs")])
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  (run,) = (tmp_path / "logs" / "g1_flat").iterdir()
  assert (run / "model_0.pt").is_file()
  assert load_cfg(run / "params" / "agent.yaml").algorithm.learning_rate == lr


@pytest.mark.slow
def test_killed_study_resumes_with_finished_trials_intact(launcher, tmp_path):
  # 8 iterations, a checkpoint every 2: after trial 1's first evaluation it still has 6
  # iterations and 3 evaluations to go, so the kill lands mid-trial on a slow machine too.
  space = _space(tmp_path, trial={**SPACE["trial"], "eval_every": 2, "max_iterations": 8}, n_trials=2)
  # --num_envs fixes the env count although the file searches env.scene.num_envs (it used to
  # be ignored: the searched value won).
  flags = ["--device", "cpu", "--pruner", "none", "--heartbeat-s", "1", "--num_envs", "3", "--no-warmup"]
  cmd = _cmd(tmp_path, space, *flags)
  log = tmp_path / "first.log"
  with log.open("w") as out:
    proc = subprocess.Popen(cmd, env=ENV, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
  try:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
      time.sleep(0.5)
      if "[study] tiny in " not in log.read_text():  # the database and study are made
        continue
      trials = _study(tmp_path).trials
      if len(trials) == 2 and trials[0].state == TrialState.COMPLETE and trials[1].intermediate_values:
        break
    assert proc.poll() is None, (
      "the study ended before trial 1 was evaluated once:\n" + log.read_text()[-3000:]
    )
  finally:
    proc.kill()  # mid-trial: trial 1 has evaluated checkpoints and more iterations to go
    proc.wait()
  before = _study(tmp_path).trials
  done, killed = before
  assert killed.state == TrialState.RUNNING
  saved = [c["iteration"] for c in _state(killed.user_attrs["run_dir"])["checkpoints"]]
  assert saved and saved[-1] < 7, saved
  time.sleep(3)  # > the grace period (2 x --heartbeat-s)
  result = _run(launcher, cmd)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  after = _study(tmp_path).trials
  assert len(after) == 3
  assert after[0].state == TrialState.COMPLETE
  assert (after[0].value, after[0].params, after[0].datetime_complete) == (
    done.value,
    done.params,
    done.datetime_complete,
  )
  assert after[1].state == TrialState.FAIL and "paused" not in after[1].user_attrs
  cont = after[2]
  assert cont.state == TrialState.COMPLETE and cont.user_attrs["continues"] == 1
  assert cont.params == killed.params and cont.user_attrs["run_dir"] == killed.user_attrs["run_dir"]
  # The evaluations before the kill are re-reported, then training went on from the newest checkpoint.
  assert all(cont.intermediate_values[s] == v for s, v in after[1].intermediate_values.items())
  state = _state(killed.user_attrs["run_dir"])
  assert len(state["session_starts"]) == 2 and [c["iteration"] for c in state["checkpoints"]] == [1, 3, 5, 7]
  assert f"resuming {killed.user_attrs['run_dir']} from model_{saved[-1]}.pt" in result.stdout
  assert "--num_envs 3: env.scene.num_envs is not searched" in result.stdout
  assert "warm-up" not in result.stdout  # --no-warmup
  assert all(set(t.params) == {LR, "agent.algorithm.num_learning_epochs"} for t in after)
  assert load_cfg(Path(cont.user_attrs["run_dir"]) / "params" / "env.yaml").scene.num_envs == 3
  assert len(list((tmp_path / "logs" / "st_rl" / "g1_flat").iterdir())) == 2  # no third run folder


def _bad(launcher: Launcher, tmp: Path, space: Path, *args: str) -> subprocess.CompletedProcess:
  result = _run(launcher, _cmd(tmp, space, "--device", "cpu", *args))
  assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
  assert "Traceback" not in result.stderr and result.stderr.startswith("error: ")
  return result


@pytest.mark.slow
def test_bad_inputs_are_exit_2_and_write_nothing(launcher, tmp_path):
  params = {**SPACE["params"], "agent.algorithm.learning_rat": {"type": "float", "low": 0.1, "high": 0.2}}
  unknown = _bad(launcher, tmp_path, _space(tmp_path, params=params))
  assert "learning_rat" in unknown.stderr and "learning_rate" in unknown.stderr
  inverted = {**SPACE["params"], LR: {"type": "float", "low": 1e-2, "high": 1e-4, "log": True}}
  assert "empty or inverted" in _bad(launcher, tmp_path, _space(tmp_path, params=inverted)).stderr
  # An unreachable --storage URL: exts/legged_robots/tests/evaluation/test_study_logic.py.
  assert not (tmp_path / "logs").exists()


@pytest.mark.slow
def test_other_search_space_under_an_existing_name_is_exit_2(launcher, finished_study, tmp_path):
  tmp, _ = finished_study
  db = tmp / "logs" / "studies" / "tiny.db"
  digest = hashlib.sha256(db.read_bytes()).hexdigest()
  wider = {**SPACE["params"], LR: {"type": "float", "low": 1e-5, "high": 1e-2, "log": True}}
  result = _bad(launcher, tmp, _space(tmp_path, params=wider))
  assert "exists with another search space" in result.stderr and "--name" in result.stderr
  assert hashlib.sha256(db.read_bytes()).hexdigest() == digest


@pytest.mark.slow
def test_time_to_walk_trial_is_worth_its_walking_checkpoints_wall_clock(launcher, tmp_path):
  trial = {**SPACE["trial"], "max_fall": 1.0, "max_lin_err": 100.0}  # the first checkpoint walks
  space = _space(tmp_path, objective="time_to_walk", trial=trial, n_trials=1)
  result = _run(launcher, _cmd(tmp_path, space, "--device", "cpu"))
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  # Warp's kernels are compiled or loaded before the trial's clock starts (on a fresh kernel
  # cache, 39.4 s of a tiny trial's 41 s on this CPU; docs/study.md).
  warm = result.stdout.index("[study] warm-up: Flat-G1 built and stepped with 2 envs in ")
  assert warm < result.stdout.index("[study] trial 0: ")
  (t,) = _study(tmp_path).trials
  state = _state(t.user_attrs["run_dir"])
  (walked,) = state["checkpoints"]  # walked at iteration 0: the trial stopped there
  assert walked["iteration"] == 0 and walked["evaluation"]["passed"]
  assert t.value == walked["train_wall_s"] > 0
  e = walked["evaluation"]
  assert t.intermediate_values == {0: pytest.approx(max(e["fall_rate"] / 1.0, e["lin_vel_error"] / 100.0))}
  assert (Path(t.user_attrs["run_dir"]) / "walking_policy" / "policy.onnx").is_file()


def test_bad_params_file_is_exit_2(launcher, tmp_path):
  mapping = tmp_path / "best.yaml"
  mapping.write_text(f"{LR}: 0.001\n")
  for path, message in ((tmp_path / "none.yaml", "cannot read it"), (mapping, "expected a YAML list")):
    args = ["--device", "cpu", "--params", str(path), "--log_root", str(tmp_path / "logs")]
    result = _run(launcher, [*TRAIN, *args])
    assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
  assert not (tmp_path / "logs").exists()
