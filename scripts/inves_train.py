"""Hyperparameter study: an Optuna search over st_rl training runs that walk faster.

    python scripts/inves_train.py --study flat_g1_ttw [--budget-s 510] [--n-trials 8] \
        [--storage postgresql://user:pw@host/db] [--pruner median|hyperband|none] [key=value ...]

--study is a search-space YAML, or the name of one in scripts/st_rl/conf/study/ (format:
docs/study.md). Each trial is a normal run folder
logs/st_rl/<experiment>/<time>_study-<name>-trial<N>; the study lives in
logs/studies/<name>.db (SQLite) unless --storage names another SQLAlchemy URL, which
several machines can share. Run the same command again to resume: finished trials stay,
a trial paused by --budget-s or killed continues from its newest checkpoint. Trial
settings given as flags (--num_envs, --eval-envs, ...) and key=value overrides (fixed for
every trial) replace the file's and are part of the study's search space.

Writes logs/studies/<name>/{report.md, trials.csv, best.yaml, history.png, importances.png}.
Exit status: 0 the study has --n-trials finished trials, 1 three trials in a row failed
(errors printed), 2 bad input (nothing written), 3 --budget-s used (run the command again).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import sys
import time
from pathlib import Path

from legged_robots.rl.cli import configure_headless_gl, configure_output, run_main
from legged_robots.rl.errors import StRlError

_START = time.perf_counter()  # --budget-s counts from here, imports included
STUDY_CONF = Path(__file__).resolve().parent / "st_rl" / "conf" / "study"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
NUM_ENVS = "env.scene.num_envs"
# Flags that replace a field of the study file's trial: block.
TRIAL_FLAGS = {
  "num_envs": int,
  "eval_envs": int,
  "eval_every": int,
  "episode_s": float,
  "max_iterations": int,
  "max_wall_min": float,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  add = parser.add_argument
  add("--study", required=True, help="search-space YAML, or a name in scripts/st_rl/conf/study/")
  add("--name", help="study name (default: the YAML's file name without .yaml)")
  add("--storage", help="SQLAlchemy URL of the study database (default: sqlite:///<study_root>/<name>.db)")
  add("--study_root", default="logs/studies", help="folder of the default SQLite file and of the outputs")
  add("--log_root", default="logs/st_rl", help="root of the trials' run folders")
  add("--experiment_name", help="logs/st_rl/<experiment_name>/ of the trials (default: the agent cfg's)")
  add(
    "--n-trials", type=int, help="finished (complete or pruned) trials the study needs (default: the file's)"
  )
  add("--pruner", choices=["median", "hyperband", "none"], help="replaces the file's pruner.kind")
  add("--budget-s", type=float, help="wall-clock of this command (s), imports included; default: no limit")
  add("--device", help="cpu or cuda:N (default: cuda:0 if available, else cpu)")
  add("--seed", type=int, help="seed of the sampler and of every trial (default: the agent cfg's)")
  add("--heartbeat-s", type=int, default=30, help="heartbeat period; a trial silent for 2x this is dead")
  add("--print-every", type=int, default=10, help="iterations between progress lines")
  add(
    "--no-warmup",
    dest="warmup",
    action="store_false",
    help="skip building the task once before the first trial (it keeps Warp's kernel compilation "
    "on a fresh machine out of every trial's wall-clock)",
  )
  for name, kind in TRIAL_FLAGS.items():
    flag = "--num_envs" if name == "num_envs" else "--" + name.replace("_", "-")
    extra = f" and removes a searched {NUM_ENVS}" if name == "num_envs" else ""
    add(flag, dest=name, type=kind, help=f"replaces the file's trial.{name}{extra}")
  add("overrides", nargs="*", help="key=value overrides of env.* / agent.*, fixed for every trial")
  args = parser.parse_intermixed_args(argv)
  for name in ("n_trials", "heartbeat_s", "print_every", *TRIAL_FLAGS):
    value = getattr(args, name)
    if value is not None and not (math.isfinite(value) and value > 0):
      parser.error(f"--{name.replace('_', '-')} must be positive, got {value}")
  if args.budget_s is not None and not (math.isfinite(args.budget_s) and args.budget_s > 0):
    parser.error(f"--budget-s must be positive, got {args.budget_s}")
  return args


def study_file(study: str) -> Path:
  """The YAML path given, or conf/study/<study>.yaml."""
  path = Path(study)
  if path.suffix in (".yaml", ".yml") or path.exists():
    if not path.is_file():
      raise StRlError(f"--study {study}: no such file")
    return path
  path = STUDY_CONF / f"{study}.yaml"
  if not path.is_file():
    shipped = sorted(p.stem for p in STUDY_CONF.glob("*.yaml"))
    raise StRlError(f"--study {study}: no such file, and no {path.name} in {STUDY_CONF} (shipped: {shipped})")
  return path


def main() -> int:
  args = parse_args()
  configure_headless_gl()  # before anything imports mjlab
  configure_output(verbose=False)
  from legged_robots.evaluation.study_space import check_keys, load_study_spec

  path = study_file(args.study)
  spec = load_study_spec(path)
  trial = dataclasses.replace(
    spec.trial, **{k: getattr(args, k) for k in TRIAL_FLAGS if getattr(args, k) is not None}
  )
  if args.num_envs is not None and any(p.key == NUM_ENVS for p in spec.params):
    # The flag fixes the env count: a searched env.scene.num_envs (which wins over
    # trial.num_envs) would silently keep the file's values, e.g. 8192 envs on a CPU.
    spec = dataclasses.replace(
      spec,
      params=tuple(p for p in spec.params if p.key != NUM_ENVS),
      enqueue=tuple({k: v for k, v in e.items() if k != NUM_ENVS} for e in spec.enqueue),
    )
    print(f"[study] --num_envs {args.num_envs}: {NUM_ENVS} is not searched in this study", flush=True)
  pruner = spec.pruner if args.pruner is None else dataclasses.replace(spec.pruner, kind=args.pruner)
  spec = dataclasses.replace(spec, trial=trial, pruner=pruner, overrides=(*spec.overrides, *args.overrides))
  if spec.objective == "score" and spec.trial.max_iterations is None:
    raise StRlError(f"{path}: objective score trains a fixed budget: set trial.max_iterations")
  name = args.name or path.stem
  if not _NAME.fullmatch(name):
    raise StRlError(f"--name {name!r}: use letters, digits, '_', '.' and '-' (it names files)")

  from legged_robots.rl.task_cfg import load_task_cfgs, resolve_device

  device = resolve_device(args.device)
  cfgs = load_task_cfgs(spec.task, play=False)
  check_keys(spec, cfgs)

  from legged_robots.evaluation.study import StudyRun
  from legged_robots.evaluation.study_db import load_or_create, open_storage, shown_url
  from legged_robots.evaluation.study_report import trial_summary_json, write_report

  study_root = Path(args.study_root).resolve()
  url = args.storage
  if url is None:  # every input is valid: the default SQLite file may be created
    study_root.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{study_root / f'{name}.db'}"
  storage = open_storage(url, args.heartbeat_s)
  study = load_or_create(storage, name, spec, args.seed)
  what = f"{spec.objective} on {spec.task}, {len(spec.params)} params"
  print(f"[study] {name} in {shown_url(url)}: {what}", flush=True)
  run = StudyRun(
    study=study,
    storage=storage,
    spec=spec,
    name=name,
    n_trials=args.n_trials or spec.n_trials,
    experiment_dir=Path(args.log_root).resolve() / (args.experiment_name or cfgs.agent.experiment_name),
    device=device,
    seed=args.seed,
    budget_s=args.budget_s,
    heartbeat_s=args.heartbeat_s,
    print_every=args.print_every,
    start=_START,
    warmup=args.warmup,
  )
  code = run.run()
  write_report(study, spec, study_root / name)
  verdict = "done" if code == 0 else "budget used: run the same command again to go on"
  print(f"[study] {name}: {verdict}; trials by state {trial_summary_json(study)}", flush=True)
  return code


if __name__ == "__main__":
  run_main(lambda: sys.exit(main()))
