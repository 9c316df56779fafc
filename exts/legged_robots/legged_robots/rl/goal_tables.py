"""Ship a motion-conditioned policy without its goal tables, and rebuild them from a clip.

A mimic/tracking export holds ``<command>_goals.npz`` (``deploy.motion_goals``): goals sampled
from the training clip, so a derivative of it. Where the clip may not be shipped, neither
may the table. ``strip_goal_tables`` copies an exported folder without its tables and writes
``goals_source.yaml`` beside deploy.yaml; ``attach_goal_tables`` rebuilds them from the
user's own copy of the clip with the exporter's code (``exporter.export_goal_tables``).

``goals_source.yaml`` holds:

- ``task``: the task id (from deploy.yaml; it must be registered).
- ``motion``: the run's ``env.motion`` settings, read from ``<run>/params/env.yaml`` next to
  the export (never from flags, so that they are what training used): ``files`` as basenames
  in training order (directories expanded, as training reads them), ``csv_fps``, ``weights``,
  ``body_names``, ``strict``; and the run's ``episode_length_s`` (a table covers one episode).
  Other env overrides of the run are not replayed: a table they changed fails the check below.
- ``clips``: basename and sha256 of every clip file, in training order.
- ``tables``: per removed table its file, command, ``goals`` shape and, per array, shape,
  dtype, the sha256 of its bytes (``array_sha256``) and, for float arrays, four statistics per
  column over the rows (min, max, mean and a mean with seeded +-1 signs per row).

Why statistics and not values: the table may not be shipped, and a sha256 of float32 bytes
does not survive the last-bit differences between the GPU that exported and the CPU that
rebuilds. Each statistic moves by at most the largest element change, so a rebuilt table
within ``TOL`` of the original per element passes (a statistic s may move by
``TOL * (1 + |s|)``), while another clip, other settings or other code move them far more. A few
numbers per joint reveal no frame of the clip. Identical bytes are reported as such.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from legged_robots.deploy import DeployContract
from legged_robots.deploy.motion_goals import GOALS_SOURCE, GOALS_SUFFIX
from legged_robots.rl.errors import StRlError

SCHEMA_VERSION = 1
TOL = 1e-5
"""Largest per-element difference of a rebuilt table that still counts as the same table."""
_SIGN_SEED = 0
_MOTION_KEYS = ("csv_fps", "weights", "body_names", "strict")


class GoalTableMismatchError(Exception):
  """The clips match their sha256 but a rebuilt table differs from the recorded one."""


def file_sha256(path: Path) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def array_sha256(array: np.ndarray) -> str:
  """sha256 of an array's dtype, shape and C-order bytes (an npz file's own bytes hold a
  timestamp, so they differ between two writes of the same arrays)."""
  array = np.ascontiguousarray(array)
  digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
  digest.update(array.tobytes())
  return digest.hexdigest()


def column_stats(array: np.ndarray) -> dict[str, list[float]]:
  """Per column (all axes after the first; a 1-D array is one column) over the rows: min,
  max, mean and the mean of the rows times seeded +-1 signs. Each moves by at most the
  largest element change."""
  rows = array.astype(np.float64).reshape(len(array), -1)
  signs = np.where(np.random.default_rng(_SIGN_SEED).random(len(rows)) < 0.5, -1.0, 1.0)
  return {
    "min": rows.min(axis=0).tolist(),
    "max": rows.max(axis=0).tolist(),
    "mean": rows.mean(axis=0).tolist(),
    "signed_mean": (signs[:, None] * rows).mean(axis=0).tolist(),
  }


def array_record(array: np.ndarray) -> dict[str, Any]:
  record: dict[str, Any] = {
    "shape": list(array.shape),
    "dtype": array.dtype.str,
    "sha256": array_sha256(array),
  }
  if array.dtype.kind == "f" and array.ndim > 0 and array.size > 0:
    record["stats"] = column_stats(array)
  return record


def read_table(path: Path) -> dict[str, np.ndarray]:
  with np.load(path, allow_pickle=False) as data:
    return {k: data[k] for k in data.files}


@dataclass
class TableCheck:
  """How a rebuilt table compares with the one recorded at strip time."""

  file: str
  shape: tuple[int, ...]
  identical: bool
  """Every array has the recorded bytes (sha256)."""
  worst: float
  """Largest statistic deviation over the float arrays (0 when identical)."""
  problems: list[str]

  def verdict(self) -> str:
    if self.problems:
      return "; ".join(self.problems)
    if self.identical:
      return "identical bytes to the original"
    return f"equal to the original within {TOL:g} (largest statistic deviation {self.worst:.2e})"


def check_table(file: str, arrays: dict[str, np.ndarray], recorded: dict[str, Any]) -> TableCheck:
  """Compare a rebuilt table's arrays with their record (``array_record``)."""
  problems, worst, identical = [], 0.0, True
  expected = recorded["arrays"]
  if sorted(arrays) != sorted(expected):
    problems.append(f"arrays {sorted(arrays)}, recorded {sorted(expected)}")
  for name in sorted(set(arrays) & set(expected)):
    array, record = arrays[name], expected[name]
    if list(array.shape) != record["shape"] or array.dtype.str != record["dtype"]:
      problems.append(
        f"{name} is {array.dtype.str} {list(array.shape)}, recorded {record['dtype']} {record['shape']}"
      )
      continue
    if array_sha256(array) == record["sha256"]:
      continue
    identical = False
    if "stats" not in record:
      problems.append(f"{name} differs from the recorded values")
      continue
    got = column_stats(array)
    for stat, want in record["stats"].items():
      want = np.asarray(want)
      deviation = np.abs(np.asarray(got[stat]) - want)
      worst = max(worst, float(deviation.max()))
      if (deviation > TOL * (1.0 + np.abs(want))).any():
        problems.append(f"{name} {stat} deviates by up to {deviation.max():.2e} (> {TOL:g})")
  goals = arrays.get("goals")
  return TableCheck(file, () if goals is None else tuple(goals.shape), identical, worst, problems)


def _motion_files(entries: list[str], clips: list[Path]) -> list[Path]:
  """The run's ``env.motion.files`` in training order, directories expanded; an entry that is
  not on this machine is taken from ``clips`` by basename."""
  from legged_robots.tasks.motion import MotionDataCfg, resolve_motion_files

  given = {p.name: p for p in _expand(clips)}
  files: list[Path] = []
  for entry in entries:
    path = Path(entry).expanduser()
    if path.exists():
      files += resolve_motion_files(MotionDataCfg(files=[str(path)]))
    elif path.name in given:
      files.append(given[path.name])
    else:
      raise StRlError(
        f"the run's motion file {entry} is not on this machine: pass your copy with --clips PATH "
        "(a directory of the run must be given as its files)"
      )
  names = [p.name for p in files]
  if len(set(names)) != len(names):
    raise StRlError(f"the run's motion files share basenames ({names}): rename them apart and retrain")
  return files


def _expand(paths: list[Path]) -> list[Path]:
  """Files of ``paths``, directories expanded to their motion files as training expands them
  (``resolve_motion_files``); a missing path is an error naming --clips."""
  from legged_robots.tasks.motion import MotionDataCfg, resolve_motion_files

  for path in paths:
    if not path.exists():
      raise StRlError(f"--clips {path} does not exist: pass clip files or folders holding them")
  return resolve_motion_files(MotionDataCfg(files=[str(p) for p in paths])) if paths else []


def _check_out(out: Path, source: Path) -> None:
  if out.exists():
    raise StRlError(f"--out {out} exists: give a new folder (nothing is overwritten)")
  if out.resolve().is_relative_to(source.resolve()):
    raise StRlError(f"--out {out} is inside {source}: give a folder outside it")


def _contract(folder: Path) -> DeployContract:
  if not (folder / "deploy.yaml").is_file():
    raise StRlError(f"no deploy.yaml in {folder}: pass an exported policy folder")
  return DeployContract.load(folder / "deploy.yaml")


def _publish(out: Path, write: Any) -> None:
  """Fill a staging folder beside ``out`` with ``write`` and rename it into place: a failure
  leaves nothing at ``out``."""
  out.parent.mkdir(parents=True, exist_ok=True)
  staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
  try:
    write(staging)
    staging.rename(out)
  finally:
    shutil.rmtree(staging, ignore_errors=True)


def strip_goal_tables(exported: Path, out: Path, clips: list[Path]) -> dict[str, Any]:
  """Copy ``exported`` to ``out`` without its ``*_goals.npz`` and with ``goals_source.yaml``
  (module docstring); return what was recorded. The motion settings come from the run's
  ``params/env.yaml`` next to ``exported``; ``clips`` locate clip files whose recorded paths
  are not on this machine."""
  from legged_robots.rl.cfg_yaml import load_cfg
  from legged_robots.rl.task_cfg import require_task

  contract = _contract(exported)
  specs = [c for c in contract.commands if c.goals is not None]
  present = sorted(p.name for p in exported.glob(f"*{GOALS_SUFFIX}"))
  if not specs or not present:
    raise StRlError(f"{exported} has no goal tables (*{GOALS_SUFFIX}): nothing to strip; it ships as it is")
  missing = [c.goals for c in specs if not (exported / str(c.goals)).is_file()]
  if missing:
    raise StRlError(f"{exported} lacks the goal tables deploy.yaml names ({missing}): re-export the policy")
  nested = sorted(
    str(p.relative_to(exported)) for p in exported.rglob(f"*{GOALS_SUFFIX}") if p.parent != exported
  )
  if nested:
    raise StRlError(
      f"{exported} holds goal tables in subfolders ({', '.join(nested)}), e.g. play.py's exported/model_C/: "
      "strip each export folder on its own"
    )
  _check_out(out, exported)
  require_task(contract.task)
  params = exported.resolve().parent / "params" / "env.yaml"
  if not params.is_file():
    raise StRlError(
      f"{params} does not exist: strip reads the clips' settings from the run; pass the exported/ "
      "folder of a run (logs/st_rl/<experiment>/<run>/exported) with its params/ beside it"
    )
  env_cfg = load_cfg(params)
  motion = getattr(env_cfg, "motion", None)
  if motion is None:
    raise StRlError(f"{params} has no env.motion: task {contract.task} trains on no clips")
  files = _motion_files(list(motion.files), clips)
  source = {
    "schema_version": SCHEMA_VERSION,
    "task": contract.task,
    "motion": {"files": [p.name for p in files]} | {k: getattr(motion, k) for k in _MOTION_KEYS},
    "episode_length_s": float(env_cfg.episode_length_s),
    "clips": [{"file": p.name, "sha256": file_sha256(p)} for p in files],
    "tables": [],
  }
  for spec in specs:
    arrays = read_table(exported / str(spec.goals))
    record = {"file": spec.goals, "command": spec.name, "shape": list(arrays["goals"].shape)}
    source["tables"].append(record | {"arrays": {k: array_record(v) for k, v in arrays.items()}})

  def write(staging: Path) -> None:
    shutil.copytree(exported, staging, ignore=shutil.ignore_patterns(f"*{GOALS_SUFFIX}"), dirs_exist_ok=True)
    (staging / GOALS_SOURCE).write_text(
      yaml.safe_dump(source, sort_keys=False, width=100, default_flow_style=None)
    )

  _publish(out, write)
  return source


def read_goals_source(folder: Path) -> dict[str, Any]:
  path = folder / GOALS_SOURCE
  if not path.is_file():
    raise StRlError(f"no {GOALS_SOURCE} in {folder}: pass a folder written by `goals.py strip`")
  try:
    source = yaml.safe_load(path.read_text())
  except yaml.YAMLError as e:
    raise StRlError(
      f"{path} is not YAML ({' '.join(str(e).split())}): strip the exported folder again"
    ) from None
  keys = ("schema_version", "task", "motion", "episode_length_s", "clips", "tables")
  missing = [k for k in keys if k not in source] if isinstance(source, dict) else list(keys)
  if missing:
    raise StRlError(f"{path} lacks {missing}: strip the exported folder again")
  if source["schema_version"] != SCHEMA_VERSION:
    raise StRlError(
      f"{path} has schema_version {source['schema_version']}; this st_gym reads {SCHEMA_VERSION}"
    )
  return source


def find_clips(recorded: list[dict[str, str]], paths: list[Path]) -> list[Path]:
  """The given file of each recorded clip, found by sha256 (names may differ)."""
  by_sha = {}
  for path in _expand(paths):
    by_sha.setdefault(file_sha256(path), path)
  found = []
  for clip in recorded:
    path = by_sha.get(clip["sha256"])
    if path is None:
      raise StRlError(
        f"clip {clip['file']} (sha256 {clip['sha256']}) is not among --clips: "
        "pass your unaltered copy of it (a modified file or another clip has another sha256)"
      )
    found.append(path)
  return found


def attach_goal_tables(stripped: Path, clips: list[Path], out: Path) -> list[TableCheck]:
  """Rebuild the goal tables of ``stripped`` from ``clips`` (CPU, one env, the task's training
  cfg with the recorded motion settings) into a full copy at ``out``; raise GoalTableMismatchError
  (nothing written) unless every table matches its record."""
  from legged_robots.rl.exporter import export_goal_tables
  from legged_robots.rl.task_cfg import require_task
  from legged_robots.tasks.motion import MotionDataCfg
  from legged_robots.tasks.registry import env_class, load_env_cfg

  source = read_goals_source(stripped)
  contract = _contract(stripped)
  _check_out(out, stripped)
  files = find_clips(source["clips"], clips)
  require_task(source["task"])
  cfg: Any = load_env_cfg(source["task"])
  cfg.scene.num_envs = 1
  cfg.episode_length_s = source["episode_length_s"]
  cfg.motion = MotionDataCfg(files=[str(p) for p in files], **{k: source["motion"][k] for k in _MOTION_KEYS})
  env = env_class(source["task"])(cfg=cfg, device="cpu")
  checks: list[TableCheck] = []

  def write(staging: Path) -> None:
    shutil.copytree(stripped, staging, dirs_exist_ok=True)
    export_goal_tables(env, contract, staging)
    written = sorted(str(c.goals) for c in contract.commands if c.goals is not None)
    recorded = {t["file"]: t for t in source["tables"]}
    if written != sorted(recorded):
      raise GoalTableMismatchError(
        f"the task writes tables {written}; {GOALS_SOURCE} records {sorted(recorded)}"
      )
    checks.extend(check_table(f, read_table(staging / f), recorded[f]) for f in written)
    if any(c.problems for c in checks):
      raise GoalTableMismatchError(
        "the rebuilt tables differ from the shipped policy's although the clips match: "
        + " | ".join(f"{c.file}: {c.verdict()}" for c in checks if c.problems)
        + " (another st_gym version, or training overrides beyond env.motion)"
      )

  try:
    _publish(out, write)
  finally:
    env.close()
  return checks
