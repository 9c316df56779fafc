"""The study library without envs: search-space files, the pruner on values this test
controls, objective values, storage errors, a changed search space, and the re-queue of a
trial whose heartbeat stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from legged_robots.evaluation.study import NEVER_PASSES, Outcome, StudyRun, distributions
from legged_robots.evaluation.study_db import load_or_create, make_pruner, open_storage
from legged_robots.evaluation.study_report import trial_rows
from legged_robots.evaluation.study_space import (
  ParamSpec,
  PrunerSpec,
  StudySpec,
  TrialSettings,
  check_keys,
  load_study_spec,
  override_text,
)
from legged_robots.evaluation.time_to_walk import (
  CheckpointRecord,
  Evaluation,
  Limits,
  RunState,
  chunk_iterations,
  passes,
)
from legged_robots.rl.errors import StRlError

# ask() outside study.optimize and fail_stale_trials warn; the study code runs them on purpose.
pytestmark = pytest.mark.filterwarnings(
  "ignore::optuna.exceptions.ExperimentalWarning", "ignore:Heartbeat of storage is supposed"
)
ROOT = Path(__file__).resolve().parents[4]
SHIPPED = ROOT / "scripts" / "st_rl" / "conf" / "study" / "flat_g1_ttw.yaml"
SPEC = StudySpec(
  task="Flat-G1",
  objective="score",
  params=(ParamSpec("agent.algorithm.learning_rate", "float", 1e-4, 1e-2, log=True),),
  trial=TrialSettings(eval_every=1, max_iterations=3, fall_weight=2.0),
  pruner=PrunerSpec("median", startup_trials=2, warmup_evals=1),
)


def _write(tmp_path: Path, text: str) -> Path:
  path = tmp_path / "space.yaml"
  path.write_text(text)
  return path


def test_shipped_study_file_reads():
  spec = load_study_spec(SHIPPED)
  assert spec.task == "Flat-G1" and spec.objective == "time_to_walk" and spec.n_trials >= 8
  lr = next(p for p in spec.params if p.key == "agent.algorithm.learning_rate")
  assert lr.kind == "float" and lr.log and lr.low == 1e-4 and lr.high == 3e-3
  envs = next(p for p in spec.params if p.key == "env.scene.num_envs")
  assert envs.kind == "categorical" and envs.choices == (4096, 8192, 16384)
  assert any(p.key.startswith("env.rewards.") for p in spec.params)
  assert set(distributions(spec)) == {p.key for p in spec.params}


BASE = "task: Flat-G1\nobjective: score\nparams:\n"


@pytest.mark.parametrize(
  ("param", "message"),
  [
    ("{type: float, low: 0.3, high: 0.1}", "range [0.3, 0.1] is empty or inverted"),
    ("{type: int, low: 4, high: 4}", "range [4, 4] is empty or inverted"),
    ("{type: float, low: 0.0, high: 1.0, log: true}", "a log range needs low > 0"),
    ("{type: categorical, choices: []}", "choices must be a non-empty list"),
    ("{type: int, low: 1.5, high: 4}", "low must be an integer"),
    ("{type: float, low: 1, hi: 2}", "unknown keys ['hi']"),
    ("{type: normal, low: 1, high: 2}", "type must be one of"),
  ],
)
def test_bad_ranges_name_the_problem(tmp_path, param, message):
  path = _write(tmp_path, BASE + f"  agent.algorithm.clip_param: {param}\n")
  with pytest.raises(StRlError, match=r"params\.agent\.algorithm\.clip_param") as err:
    load_study_spec(path)
  assert message in str(err.value)


def test_bad_file_shapes(tmp_path):
  cases = {
    "task: Flat-G1\nobjective: fast\nparams: {a: {type: int, low: 1, high: 2}}\n": "objective must be one",
    "task: Flat-G1\nobjective: score\nparams: {}\n": "params is empty",
    "task: Flat-G1\nobjective: score\nparmas: {}\n": "unknown keys ['parmas']",
    "task: Flat-G1\nobjective: score\ntrial: {eval_every: 0}\nparams: {a: {type: int, low: 1, high: 2}}\n": (
      "trial.eval_every must be positive"
    ),
    "task: Flat-G1\nobjective: score\ntrial: {max_fall: 5}\nparams: {a: {type: int, low: 1, high: 2}}\n": (
      "trial.max_fall is a fall rate, at most 1; got 5"
    ),
    "[1, 2": "cannot read the study file",
    BASE + "  a: {type: int, low: 1, high: 4}\nenqueue: [{a: 5}]\n": "enqueue[0].a = 5 is outside",
    BASE + "  a: {type: int, low: 1, high: 4}\nenqueue: [{b: 2}]\n": "missing ['a'], unknown ['b']",
  }
  for text, message in cases.items():
    with pytest.raises(StRlError, match=message.replace("[", r"\[").replace("]", r"\]")):
      load_study_spec(_write(tmp_path, text))


@pytest.fixture(scope="module")
def flat_g1_cfgs():
  from legged_robots.rl.task_cfg import load_task_cfgs

  return load_task_cfgs("Flat-G1", play=False)


def test_shipped_study_keys_apply_and_its_baseline_is_the_registered_defaults(flat_g1_cfgs):
  cfgs = flat_g1_cfgs
  spec = load_study_spec(SHIPPED)
  check_keys(spec, cfgs)  # every bound and choice through train.py's override code
  (baseline,) = spec.enqueue
  for key, value in baseline.items():
    node = {"env": cfgs.env, "agent": cfgs.agent}
    for part in key.split("."):
      node = node[part] if isinstance(node, dict) else getattr(node, part)
    # 8192 envs: the benchmark's default (docs/benchmarks.md), not the cfg's 4096.
    assert value == (8192 if key == "env.scene.num_envs" else node), key


def test_new_study_queues_the_enqueued_trials_first(tmp_path):
  spec = replace(SPEC, enqueue=({"agent.algorithm.learning_rate": 1e-3},))
  study = load_or_create(open_storage(f"sqlite:///{tmp_path / 's.db'}", 60), "s", spec, seed=0)
  assert study.ask(distributions(spec)).params == {"agent.algorithm.learning_rate": 1e-3}


def test_a_command_joining_the_study_draws_new_values(tmp_path):
  # A resumed command (or a second worker) with the same --seed must not repeat the first
  # command's random start-up trials: same seed -> the same first draw.
  url = f"sqlite:///{tmp_path / 's.db'}"
  key = "agent.algorithm.learning_rate"

  def first_draw(study: optuna.Study) -> float:
    return study.ask(distributions(SPEC)).params[key]

  def seeded(seed: int) -> optuna.Study:
    return optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))

  drawn = first_draw(load_or_create(open_storage(url, 60), "s", SPEC, seed=3))
  assert drawn == first_draw(seeded(3))
  again = first_draw(load_or_create(open_storage(url, 60), "s", SPEC, seed=3))  # 1 trial: 3 + 1 + 1
  assert again != drawn and again == first_draw(seeded(5))


def test_unknown_key_or_unusable_value_names_the_problem(flat_g1_cfgs):
  spec = replace(SPEC, params=(ParamSpec("agent.algorithm.learning_rat", "float", 1e-4, 1e-2),))
  with pytest.raises(StRlError, match="search space") as err:
    check_keys(spec, flat_g1_cfgs)
  assert "agent.algorithm.learning_rat" in str(err.value) and "learning_rate" in str(err.value)
  spec = replace(SPEC, params=(ParamSpec("agent.algorithm.num_mini_batches", "categorical", choices=(4, 0)),))
  with pytest.raises(StRlError, match=r"agent\.algorithm\.num_mini_batches must be at least 1, got 0"):
    check_keys(spec, flat_g1_cfgs)
  spec = replace(SPEC, params=(ParamSpec("env.scene.num_envs", "categorical", choices=(4, "many")),))
  with pytest.raises(StRlError, match=r"env\.scene\.num_envs"):
    check_keys(spec, flat_g1_cfgs)


def test_override_text_is_json():
  assert override_text("agent.algorithm.learning_rate", 3e-4) == "agent.algorithm.learning_rate=0.0003"
  assert override_text("env.scene.num_envs", 4096) == "env.scene.num_envs=4096"
  assert override_text("agent.x", "adaptive") == 'agent.x="adaptive"'


class FakeSession:
  """walk_session.Session's interface: checkpoints every eval_every iterations whose
  evaluations (xy error, fall rate) are the test's numbers."""

  def __init__(self, spec: StudySpec, results: list[tuple[float, float]]) -> None:
    s = spec.trial
    from legged_robots.evaluation.time_to_walk import Settings

    walk = spec.objective == "time_to_walk"
    fall, lin = (s.max_fall, s.max_lin_err) if walk else (NEVER_PASSES, NEVER_PASSES)
    settings = Settings("Flat-G1", 4, 4, s.eval_every, 1.0, fall, lin, "cpu", None, ())
    self.state = RunState(settings=settings)
    self.results = iter(results)
    self.chunks = 0

  def train_chunk(self) -> None:
    its = chunk_iterations(self.state.next_iteration, self.state.settings.eval_every, 3)
    end = self.state.next_iteration + its - 1
    self.state.train_wall_s += 10.0 * its
    self.state.checkpoints.append(CheckpointRecord(end, f"model_{end}.pt", self.state.train_wall_s))
    self.chunks += 1

  def evaluate(self) -> None:
    lin, fall = next(self.results)
    ok = passes(fall, lin, self.state.settings)
    self.state.checkpoints[-1].evaluation = Evaluation(4, fall, lin, 0.1, 1.0, 0.5, ok)


def _study_run(tmp_path: Path, spec: StudySpec, warmup: bool = False) -> StudyRun:
  storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_s=60)
  study = load_or_create(storage, "unit", spec, seed=0)
  args = (study, storage, spec, "unit", 4, tmp_path, "cpu", None, None, 60, 1, time.perf_counter())
  return StudyRun(*args, warmup=warmup)


def _run_fake(run: StudyRun, results: list[tuple[float, float]]) -> tuple[Outcome, float, int]:
  trial = run.study.ask(distributions(run.spec))
  session = FakeSession(run.spec, results)
  limits = Limits(1e9, run.spec.trial.max_wall_min * 60, 3)
  outcome, value = run.steps(trial, session, limits)  # type: ignore[arg-type]
  if outcome is Outcome.PRUNED:
    run.study.tell(trial, state=TrialState.PRUNED)
  else:
    run.study.tell(trial, value)
  return outcome, value, session.chunks


def test_median_pruner_stops_a_trial_worse_than_the_median(tmp_path):
  run = _study_run(tmp_path, SPEC)
  # score = xy error + 2 x fall rate, reported at iterations 0, 1, 2.
  assert _run_fake(run, [(0.5, 0.0), (0.4, 0.0), (0.3, 0.0)]) == (Outcome.COMPLETE, 0.3, 3)
  assert _run_fake(run, [(0.6, 0.0), (0.5, 0.1), (0.4, 0.1)]) == (Outcome.COMPLETE, pytest.approx(0.6), 3)
  # Median at iteration 1 of the two finished trials: (0.4 + 0.7) / 2 = 0.55. The first
  # evaluation is the warm-up (never pruned); the second, 0.9 > 0.55, stops the trial.
  outcome, _, chunks = _run_fake(run, [(0.95, 0.0), (0.9, 0.0), (0.1, 0.0)])
  assert (outcome, chunks) == (Outcome.PRUNED, 2)
  assert run.study.trials[2].intermediate_values == {0: 0.95, 1: 0.9}
  # A trial better than the median at every step runs its whole budget.
  assert _run_fake(run, [(0.9, 0.0), (0.5, 0.0), (0.2, 0.0)]) == (Outcome.COMPLETE, 0.2, 3)


def test_time_to_walk_values(tmp_path):
  spec = replace(
    SPEC, objective="time_to_walk", trial=TrialSettings(eval_every=1, max_fall=0.1, max_lin_err=0.2)
  )
  run = _study_run(tmp_path, replace(spec, pruner=PrunerSpec("none")))
  # Distance max(fall / 0.1, err / 0.2): 2.0, then 1.5; the third checkpoint walks at 30 s.
  outcome, value, chunks = _run_fake(run, [(0.4, 0.05), (0.1, 0.15), (0.2, 0.1)])
  assert (outcome, value, chunks) == (Outcome.COMPLETE, 30.0, 3)
  assert run.study.trials[0].intermediate_values == pytest.approx({0: 2.0, 1: 1.5, 2: 1.0})
  # Never walks within the 3 iterations: max_wall_s (15 min) x the last distance 1.5.
  outcome, value, _ = _run_fake(run, [(0.4, 0.0), (0.3, 0.0), (0.3, 0.0)])
  assert (outcome, value) == (Outcome.COMPLETE, pytest.approx(900.0 * 1.5))
  # The report tells the two apart: the first walked (last distance 1.0), the second did not.
  assert [(r["value"], r["walked"]) for r in trial_rows(run.study, spec)] == [
    (30.0, "yes"),
    (pytest.approx(1350.0), "no"),
  ]
  assert "walked" not in trial_rows(run.study, SPEC)[0]  # the score objective has no such column


def test_unreachable_storage_is_a_clear_error(tmp_path):
  for url in (f"sqlite:///{tmp_path}/no/such/dir/s.db", "postgresql://st_gym@127.0.0.1:9/studies"):
    with pytest.raises(StRlError, match="cannot open the study storage") as err:
      open_storage(url, heartbeat_s=60)
    assert url in str(err.value)
  assert list(tmp_path.iterdir()) == []


_JOIN = """
import sys, time, warnings
warnings.simplefilter("ignore")
from legged_robots.evaluation.study_db import load_or_create, open_storage
from legged_robots.evaluation.study_space import ParamSpec, StudySpec, TrialSettings
spec = StudySpec(task="Flat-G1", objective="score", trial=TrialSettings(max_iterations=3),
  params=(ParamSpec("agent.algorithm.learning_rate", "float", 1e-4, 1e-2, log=True),))
while time.time() < float(sys.argv[2]):
  pass
print(load_or_create(open_storage(sys.argv[1], 60), "s", spec, seed=0)._study_id)
"""


def test_workers_started_together_on_a_new_database_share_one_study(storage_url):
  # Four commands creating one new database's tables and study in the same instant (the
  # first workers of a study started together): each loser of a race joins, none fails.
  # Without the retries 11 of 20 such opens of a SQLite file failed here ("table studies
  # already exists").
  url, start = storage_url, time.time() + 4
  env = {**os.environ, "PYTHONWARNINGS": "ignore"}
  cmd = [sys.executable, "-c", _JOIN, url, str(start)]
  procs = [
    subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(4)
  ]
  try:
    outs = [p.communicate(timeout=120) for p in procs]
  finally:
    for p in procs:  # none outlives a failed test
      p.kill()
      p.wait()
  assert [p.returncode for p in procs] == [0] * 4, [err[-800:] for _, err in outs]
  assert len({out.strip() for out, _ in outs}) == 1
  (summary,) = optuna.get_all_study_summaries(url)
  assert summary.study_name == "s" and summary.user_attrs["st_gym_study"]["task"] == "Flat-G1"


def test_passwords_are_not_shown():
  url = "postgresql://st_gym:s3cr:et@127.0.0.1:9/studies"
  with pytest.raises(StRlError) as err:
    open_storage(url, heartbeat_s=60)
  assert "s3cr" not in str(err.value) and "postgresql://st_gym:***@127.0.0.1:9/studies" in str(err.value)


def test_other_search_space_leaves_the_study_untouched(storage_url):
  url = storage_url
  study = load_or_create(open_storage(url, 60), "s", SPEC, seed=0)
  study.enqueue_trial({"agent.algorithm.learning_rate": 1e-3})
  wider = replace(SPEC, params=(ParamSpec("agent.algorithm.learning_rate", "float", 1e-5, 1e-2, log=True),))
  with pytest.raises(StRlError, match="exists with another search space") as err:
    load_or_create(open_storage(url, 60), "s", wider, seed=0)
  assert "'low': 0.0001" in str(err.value) and "'low': 1e-05" in str(err.value)
  again = optuna.load_study(study_name="s", storage=url)
  assert len(again.trials) == 1 and again.user_attrs == study.user_attrs
  # Pruner and trial count may change between commands of one study.
  load_or_create(open_storage(url, 60), "s", replace(SPEC, pruner=PrunerSpec("hyperband"), n_trials=20), 0)


def test_silent_trial_is_failed_and_requeued_to_continue_its_run(tmp_path, storage_url):
  storage = open_storage(storage_url, heartbeat_s=1)
  study = load_or_create(storage, "s", SPEC, seed=0)
  trial = study.ask(distributions(SPEC))
  trial.set_user_attr("run_dir", str(tmp_path / "run0"))
  storage.record_heartbeat(trial._trial_id)  # then the process "dies": no more beats
  time.sleep(3.2)  # > grace period (2 x heartbeat)
  optuna.storages.fail_stale_trials(study)
  dead, queued = study.get_trials()
  assert dead.state == TrialState.FAIL and queued.state == TrialState.WAITING
  assert queued.user_attrs == {"continues": 0, "run_dir": str(tmp_path / "run0")}
  nxt = study.ask(distributions(SPEC))  # the next trial is the continuation
  assert nxt.number == 1 and nxt.params == dead.params and nxt.user_attrs["continues"] == 0


def test_budget_pauses_the_trial_and_queues_its_continuation(tmp_path):
  run = _study_run(tmp_path, SPEC)
  run.budget_s, run.start = 100.0, time.perf_counter() - 90.0  # 10 s left < the exit reserve
  trial = run.study.ask(distributions(SPEC))
  trial.set_user_attr("run_dir", str(tmp_path / "run0"))
  session = FakeSession(SPEC, [])
  limits = Limits(run.budget_s, 900.0, 3)
  outcome, _ = run.steps(trial, session, limits)  # type: ignore[arg-type]
  # The first step after the env was built runs; the evaluation after it does not fit.
  assert outcome is Outcome.PAUSED and session.chunks == 1
  run.pause(trial)
  paused, queued = run.study.get_trials()
  assert paused.state == TrialState.FAIL and paused.user_attrs["paused"] is True
  assert queued.state == TrialState.WAITING
  assert queued.user_attrs == {"continues": 0, "run_dir": str(tmp_path / "run0")}


def test_three_failed_trials_in_a_row_stop_the_command(tmp_path):
  spec = replace(SPEC, task="No-Such-Task")
  run = _study_run(tmp_path, spec)
  assert run.run() == 1
  trials = run.study.get_trials()
  assert [t.state for t in trials] == [TrialState.FAIL] * 3
  assert all("No-Such-Task" in t.user_attrs["error"] for t in trials)


def test_a_failed_warm_up_stops_the_command_before_any_trial(tmp_path, capsys):
  run = _study_run(tmp_path, replace(SPEC, task="No-Such-Task"), warmup=True)
  assert run.run() == 1
  assert run.study.get_trials() == []
  out = capsys.readouterr().out
  assert "[study] the warm-up failed: StRlError: Unknown task id 'No-Such-Task'" in out
  assert out.strip().endswith("no trial started")


def test_continuation_finds_its_run_folder_by_name_in_this_experiment_folder(tmp_path, capsys):
  run = _study_run(tmp_path, replace(SPEC, task="No-Such-Task"))  # fails once the env is built
  run.study.enqueue_trial(
    {"agent.algorithm.learning_rate": 1e-3},
    user_attrs={"continues": 0, "run_dir": "/other/machine/logs/st_rl/g1_flat/2026_study-unit-trial0"},
  )
  assert run.run_trial(run.study.ask(distributions(SPEC))) is Outcome.FAILED
  assert run.study.trials[0].user_attrs["run_dir"] == str(tmp_path / "2026_study-unit-trial0")
  assert f"{tmp_path / '2026_study-unit-trial0'} is not here" in capsys.readouterr().out


def test_pruner_kinds(tmp_path):
  median = make_pruner(SPEC)  # 1 warm-up evaluation every 1 iteration: pruning from iteration 1
  assert isinstance(median, optuna.pruners.MedianPruner)
  assert (median._n_startup_trials, median._n_warmup_steps) == (2, 1)
  spec = replace(SPEC, trial=TrialSettings(eval_every=25, max_iterations=300), pruner=PrunerSpec("hyperband"))
  hyperband = make_pruner(spec)
  assert isinstance(hyperband, optuna.pruners.HyperbandPruner)
  assert (hyperband._min_resource, hyperband._max_resource) == (25, 300)
  assert isinstance(make_pruner(replace(SPEC, pruner=PrunerSpec("none"))), optuna.pruners.NopPruner)
  # Hyperband under this ask/tell loop: trials run, report and end without errors.
  run = _study_run(tmp_path, replace(SPEC, pruner=PrunerSpec("hyperband")))
  outcomes = [_run_fake(run, [(e, 0.0), (e, 0.0), (e, 0.0)])[0] for e in (0.3, 0.5, 0.9, 0.2)]
  assert set(outcomes) <= {Outcome.COMPLETE, Outcome.PRUNED} and outcomes[0] is Outcome.COMPLETE
