"""The database side of a study: storage, create or resume, heartbeats, re-queue.

Optuna's RDB storage (a SQLite file or any SQLAlchemy URL) holds the study. The study
remembers its search space (``StudySpec.identity``) in a user attr, and a command with
another one is refused before it changes anything. A running trial records a heartbeat
every ``heartbeat_s``; a trial silent for twice that is marked FAIL by the next command
(``optuna.storages.fail_stale_trials``) and re-queued by ``requeue``: a trial with the
same parameters that continues the dead trial's run folder.
"""

from __future__ import annotations

import re
import threading
import time
import warnings

import optuna
from optuna.trial import FrozenTrial

from legged_robots.evaluation.study_space import StudySpec
from legged_robots.rl.errors import StRlError

SPEC_ATTR = "st_gym_study"
"""Study user attr holding StudySpec.identity(): a resume must match it."""


def make_pruner(spec: StudySpec) -> optuna.pruners.BasePruner:
  """Steps are learning iterations; the k-th evaluation is step k x eval_every - 1."""
  p, every = spec.pruner, spec.trial.eval_every
  if p.kind == "median":
    # An evaluation k may prune once k > warmup_evals: k*every - 1 >= warmup_evals*every.
    return optuna.pruners.MedianPruner(
      n_startup_trials=p.startup_trials, n_warmup_steps=p.warmup_evals * every
    )
  if p.kind == "hyperband":
    top = spec.trial.max_iterations
    return optuna.pruners.HyperbandPruner(min_resource=every, max_resource="auto" if top is None else top)
  return optuna.pruners.NopPruner()


def requeue(study: optuna.Study, trial: FrozenTrial) -> None:
  """Queue a trial with the same parameters that continues ``trial``'s run folder."""
  run_dir = trial.user_attrs.get("run_dir")
  study.enqueue_trial(trial.params, user_attrs={"continues": trial.number, "run_dir": run_dir})
  print(f"[study] trial {trial.number} re-queued: its next trial continues {run_dir}", flush=True)


def shown_url(url: str) -> str:
  """The URL with its password masked, for messages (``postgresql://u:***@host/db``)."""
  return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


_RACES = ("already exists", "unique constraint", "duplicate key", "database is locked")
"""Errors of two commands creating the same new database's tables at once (a study file's
first workers started together): the loser's next attempt finds the tables there."""


def open_storage(url: str, heartbeat_s: int, attempts: int = 5) -> optuna.storages.RDBStorage:
  """The RDB storage at url, with heartbeats; StRlError when it cannot be reached."""
  import sqlalchemy.exc

  attempt = 0
  while True:
    with warnings.catch_warnings():
      warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
      try:
        return optuna.storages.RDBStorage(
          url, heartbeat_interval=heartbeat_s, heartbeat_stale_trial_callback=requeue
        )
      except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        attempt += 1
        if attempt < attempts and any(r in first.lower() for r in _RACES):
          time.sleep(0.2 * attempt)
          continue
        raise StRlError(
          f"cannot open the study storage {shown_url(url)} ({type(e).__name__}: {shown_url(first)}). "
          "Check the URL, that the database server is up and reachable from here, and its user "
          "and password."
        ) from None


def _differences(saved: dict, current: dict) -> list[str]:
  out = []
  for key in sorted(set(saved) | set(current)):
    if saved.get(key) != current.get(key):
      out.append(f"{key}: {saved.get(key)!r} -> {current.get(key)!r}")
  return out


def load_or_create(
  storage: optuna.storages.RDBStorage, name: str, spec: StudySpec, seed: int | None
) -> optuna.Study:
  """The study ``name``, created if new (spec.enqueue's trials queued first); StRlError if
  it exists with another search space.

  The sampler of a new study is seeded with ``seed``. A command that joins an existing
  study (a resume, or a second worker on the same storage) seeds it with ``seed + 1 +``
  the number of trials already there: with ``seed`` itself it would draw the first
  command's values again (the same random start-up trials, run twice). The seeds stay a
  function of the study's history; two workers that join at the same moment still share one.
  """
  current = spec.identity()
  if name not in {s.study_name for s in storage.get_all_studies()}:
    sampler = optuna.samplers.TPESampler(n_startup_trials=spec.tpe_startup_trials, seed=seed)
    try:
      study = optuna.create_study(
        study_name=name, storage=storage, direction="minimize", sampler=sampler, pruner=make_pruner(spec)
      )
    except optuna.exceptions.DuplicatedStudyError:
      pass  # another command created it a moment ago: join it below
    else:
      study.set_user_attr(SPEC_ATTR, current)
      for params in spec.enqueue:
        study.enqueue_trial(params)
      return study
  study = optuna.load_study(study_name=name, storage=storage, pruner=make_pruner(spec))
  if seed is not None:
    seed += 1 + len(study.get_trials(deepcopy=False))
  study.sampler = optuna.samplers.TPESampler(n_startup_trials=spec.tpe_startup_trials, seed=seed)
  saved = study.user_attrs.get(SPEC_ATTR)
  for _ in range(10):  # a study created a moment ago gets its search space just after
    if saved is not None or study.get_trials(deepcopy=False):
      break
    time.sleep(0.2)
    saved = study.user_attrs.get(SPEC_ATTR)
  if saved != current:
    what = "no st_gym search space" if saved is None else "; ".join(_differences(saved, current))
    raise StRlError(
      f"study '{name}' in {shown_url(storage.url)} exists with another search space ({what}). "
      "Resume it with its original study file and trial settings, or pass a new --name. The "
      "study was not changed."
    )
  return study


class Heartbeat:
  """Records the trial's heartbeat every interval while a trial runs (what study.optimize
  does; the ask/tell loop here must do it itself)."""

  def __init__(self, storage: optuna.storages.RDBStorage, trial_id: int, interval_s: int) -> None:
    self._storage, self._trial_id, self._interval = storage, trial_id, interval_s
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._beat, daemon=True)

  def _beat(self) -> None:
    while not self._stop.wait(self._interval):
      self._storage.record_heartbeat(self._trial_id)

  def __enter__(self) -> Heartbeat:
    self._storage.record_heartbeat(self._trial_id)
    self._thread.start()
    return self

  def __exit__(self, *exc: object) -> None:
    self._stop.set()
    self._thread.join()
