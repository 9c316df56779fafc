"""The search-space YAML of a hyperparameter study (``scripts/st_rl/conf/study/*.yaml``).

A study file names the task, the objective, the pruner, the settings every trial trains
and evaluates with (those of ``benchmarks/time_to_walk.py``), fixed overrides, and the
searched parameters: each one an override key (``agent.algorithm.learning_rate``) with a
type and a range::

    params:
      agent.algorithm.learning_rate: {type: float, low: 1.0e-4, high: 3.0e-3, log: true}
      agent.algorithm.num_learning_epochs: {type: int, low: 3, high: 8}
      env.scene.num_envs: {type: categorical, choices: [4096, 8192]}

Reading the file checks its shape and ranges without mjlab; ``check_keys`` then applies
every bound and choice to the task's configs through the override code of train.py, so
an unknown key names the closest valid ones before any study or run folder exists.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from legged_robots.rl.errors import StRlError

Objective = Literal["time_to_walk", "score"]
PrunerType = Literal["median", "hyperband", "none"]
OBJECTIVES: tuple[str, ...] = ("time_to_walk", "score")
PRUNERS: tuple[str, ...] = ("median", "hyperband", "none")
_KINDS = ("float", "int", "categorical")


@dataclass(frozen=True)
class ParamSpec:
  """One searched override key."""

  key: str
  kind: Literal["float", "int", "categorical"]
  low: float | None = None
  high: float | None = None
  log: bool = False
  choices: tuple[Any, ...] = ()

  def values_to_check(self) -> list[Any]:
    """Every value the override code must accept: both bounds, or every choice."""
    return list(self.choices) if self.kind == "categorical" else [self.low, self.high]


@dataclass(frozen=True)
class TrialSettings:
  """How each trial trains and is evaluated (benchmarks/time_to_walk.py's flags)."""

  num_envs: int = 8192
  """Training envs (a searched env.scene.num_envs wins)."""
  eval_envs: int = 1000
  eval_every: int = 25
  """Learning iterations between evaluations; an evaluation is one pruning step."""
  episode_s: float = 20.0
  max_fall: float = 0.05
  """time_to_walk: a checkpoint walks when its fall rate is at most this ..."""
  max_lin_err: float = 0.2
  """... and its mean xy tracking error (m/s) at most this."""
  max_wall_min: float = 15.0
  """Training wall-clock after which a trial stops."""
  max_iterations: int | None = None
  """Learning iterations after which a trial stops (score: the fixed budget)."""
  fall_weight: float = 1.0
  """score = xy tracking error (m/s) + fall_weight x fall rate."""


@dataclass(frozen=True)
class PrunerSpec:
  kind: PrunerType = "median"
  startup_trials: int = 3
  """median: finished trials before any trial is pruned."""
  warmup_evals: int = 1
  """median: evaluations of a trial before it may be pruned."""


@dataclass(frozen=True)
class StudySpec:
  task: str
  objective: Objective
  params: tuple[ParamSpec, ...]
  trial: TrialSettings = field(default_factory=TrialSettings)
  pruner: PrunerSpec = field(default_factory=PrunerSpec)
  n_trials: int = 8
  tpe_startup_trials: int = 4
  """Random trials before TPE models the results (Optuna's default, 10, would make a
  study of 8 trials a random search)."""
  overrides: tuple[str, ...] = ()
  """Fixed overrides of every trial."""
  enqueue: tuple[dict[str, Any], ...] = ()
  """Trials queued, as given, when the study is created (e.g. the defaults: a baseline)."""

  def identity(self) -> dict[str, Any]:
    """What decides a trial's value; a resumed study must have the same."""
    data = asdict(self)
    for name in ("pruner", "n_trials", "tpe_startup_trials", "enqueue"):  # may change between commands
      data.pop(name)
    return json.loads(json.dumps(data))


def _bad(path: Path, what: str) -> StRlError:
  return StRlError(f"{path}: {what}")


def _mapping(value: Any, path: Path, where: str) -> dict[str, Any]:
  if not isinstance(value, dict):
    raise _bad(path, f"{where} must be a mapping, got {type(value).__name__}")
  return value


def _known(data: dict[str, Any], names: list[str], path: Path, where: str) -> None:
  unknown = sorted(set(data) - set(names))
  if unknown:
    raise _bad(path, f"unknown keys {unknown} in {where}; valid keys: {sorted(names)}")


def _number(value: Any, path: Path, where: str, integer: bool) -> float:
  ok = isinstance(value, int) if integer else isinstance(value, int | float)
  if isinstance(value, bool) or not ok or not math.isfinite(value):
    wanted = "an integer" if integer else "a finite number"
    raise _bad(path, f"{where} must be {wanted}, got {value!r}")
  return value


def _param(key: str, raw: Any, path: Path) -> ParamSpec:
  where = f"params.{key}"
  data = _mapping(raw, path, where)
  kind = data.get("type")
  if kind not in _KINDS:
    raise _bad(path, f"{where}.type must be one of {list(_KINDS)}, got {kind!r}")
  if kind == "categorical":
    _known(data, ["type", "choices"], path, where)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
      raise _bad(path, f"{where}.choices must be a non-empty list, got {choices!r}")
    if not all(c is None or isinstance(c, bool | int | float | str) for c in choices):
      raise _bad(path, f"{where}.choices must be numbers, strings, booleans or null, got {choices!r}")
    if len({json.dumps(c) for c in choices}) != len(choices):
      raise _bad(path, f"{where}.choices {choices} repeats a value")
    return ParamSpec(key, kind, choices=tuple(choices))
  _known(data, ["type", "low", "high", "log"], path, where)
  low = _number(data.get("low"), path, f"{where}.low", kind == "int")
  high = _number(data.get("high"), path, f"{where}.high", kind == "int")
  log = data.get("log", False)
  if not isinstance(log, bool):
    raise _bad(path, f"{where}.log must be true or false, got {log!r}")
  if low >= high:
    raise _bad(
      path,
      f"{where}: the range [{low}, {high}] is empty or inverted; write low < high "
      "(a fixed value belongs in overrides:)",
    )
  if log and low <= 0:
    raise _bad(path, f"{where}: a log range needs low > 0, got low={low}")
  return ParamSpec(key, kind, low=low, high=high, log=log)


def _dataclass_from(cls: type, raw: Any, path: Path, where: str) -> Any:
  data = _mapping(raw, path, where)
  names = [f.name for f in fields(cls)]
  _known(data, names, path, where)
  return cls(**data)


def _trial_settings(raw: Any, path: Path) -> TrialSettings:
  settings = _dataclass_from(TrialSettings, raw, path, "trial")
  for f in fields(TrialSettings):
    value = getattr(settings, f.name)
    if value is None:
      continue
    integer = f.type in ("int", "int | None")
    _number(value, path, f"trial.{f.name}", integer)
    if value < 0 or (value == 0 and f.name != "fall_weight"):
      raise _bad(path, f"trial.{f.name} must be positive, got {value}")
  if settings.max_fall > 1:
    raise _bad(path, f"trial.max_fall is a fall rate, at most 1; got {settings.max_fall}")
  return settings


def _pruner(raw: Any, path: Path) -> PrunerSpec:
  spec = _dataclass_from(PrunerSpec, raw, path, "pruner")
  if spec.kind not in PRUNERS:
    raise _bad(path, f"pruner.kind must be one of {list(PRUNERS)}, got {spec.kind!r}")
  for name in ("startup_trials", "warmup_evals"):
    _number(getattr(spec, name), path, f"pruner.{name}", integer=True)
  return spec


def load_study_spec(path: Path) -> StudySpec:
  """Read and check a study YAML (shape, types, ranges); keys are checked by check_keys."""
  try:
    data = yaml.safe_load(path.read_text())
  except (OSError, yaml.YAMLError) as e:
    raise StRlError(f"cannot read the study file {path}: {e}") from None
  data = _mapping(data, path, "the file")
  names = [f.name for f in fields(StudySpec)]
  _known(data, names, path, "the file")
  for name in ("task", "objective", "params"):
    if name not in data:
      raise _bad(path, f"missing key '{name}'")
  if data["objective"] not in OBJECTIVES:
    raise _bad(path, f"objective must be one of {list(OBJECTIVES)}, got {data['objective']!r}")
  params = _mapping(data["params"], path, "params")
  if not params:
    raise _bad(path, "params is empty: name at least one override key to search")
  overrides = data.get("overrides") or []
  if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
    raise _bad(path, f"overrides must be a list of key=value strings, got {overrides!r}")
  queued = data.get("enqueue") or []
  if not isinstance(queued, list):
    raise _bad(path, f"enqueue must be a list of {{key: value}} trials, got {queued!r}")
  spec = StudySpec(
    task=str(data["task"]),
    objective=data["objective"],
    params=tuple(_param(str(k), v, path) for k, v in params.items()),
    trial=_trial_settings(data.get("trial") or {}, path),
    pruner=_pruner(data.get("pruner") or {}, path),
    n_trials=int(_number(data.get("n_trials", 8), path, "n_trials", integer=True)),
    tpe_startup_trials=int(_number(data.get("tpe_startup_trials", 4), path, "tpe_startup_trials", True)),
    overrides=tuple(overrides),
    enqueue=tuple(_mapping(q, path, f"enqueue[{i}]") for i, q in enumerate(queued)),
  )
  for i, trial in enumerate(spec.enqueue):
    _check_enqueued(trial, spec.params, path, f"enqueue[{i}]")
  return spec


def _check_enqueued(trial: dict[str, Any], params: tuple[ParamSpec, ...], path: Path, where: str) -> None:
  """A queued trial gives every searched key a value inside its range or choices."""
  keys = [p.key for p in params]
  if sorted(trial) != sorted(keys):
    missing, extra = sorted(set(keys) - set(trial)), sorted(set(trial) - set(keys))
    raise _bad(path, f"{where} must give exactly the params' keys (missing {missing}, unknown {extra})")
  for p in params:
    value = trial[p.key]
    if p.kind == "categorical":
      inside = value in p.choices
    else:
      assert p.low is not None and p.high is not None
      _number(value, path, f"{where}.{p.key}", p.kind == "int")
      inside = p.low <= value <= p.high
    if not inside:
      span = list(p.choices) if p.kind == "categorical" else f"[{p.low}, {p.high}]"
      raise _bad(path, f"{where}.{p.key} = {value!r} is outside the search space {span}")


def override_text(key: str, value: Any) -> str:
  """``key=value`` as train.py reads it (JSON is valid YAML: 3e-4, [1, 2], "name")."""
  return f"{key}={json.dumps(value)}"


def check_keys(spec: StudySpec, cfgs: Any) -> None:
  """Apply the fixed overrides and every bound/choice of every param to copies of cfgs.

  Raises the override code's StRlError (unknown key with the closest valid ones, wrong
  type) or rl.checks' (a value no training accepts), both naming the key. The params are
  applied together, the i-th value of each at once (hydra composes each set in ~0.2 s).
  """
  from legged_robots.rl.checks import check_agent_cfg, check_env_cfg
  from legged_robots.rl.task_cfg import apply_cfg_overrides, checked_overrides

  columns = [p.values_to_check() for p in spec.params]
  for i in range(max(len(values) for values in columns)):
    texts = [override_text(p.key, v[min(i, len(v) - 1)]) for p, v in zip(spec.params, columns, strict=True)]
    trial = copy.deepcopy(cfgs)
    try:
      apply_cfg_overrides(trial, checked_overrides([*spec.overrides, *texts]))
      check_env_cfg(trial.env)
      check_agent_cfg(trial.agent)
    except StRlError as e:
      raise StRlError(
        f"search space (the study file's params and overrides, and the command line's key=value): {e}"
      ) from None
