"""Throughput of st_gym tasks beside mjlab's own: physics, env step and PPO training,
with st_rl's runner or skrl's, on one GPU or several.

For every (task, num_envs) row, in a fresh process each, prints one JSON line:
  physics_sps   physics-only steps/s x num_envs (env.sim.step, no managers)
  env_sps       env.step with uniform random actions in [-1, 1] (control steps x envs / s)
  train_sps     PPO iterations (collection + update) after a warm-up one, env steps / s
  collect_s, learn_s  mean seconds per PPO iteration spent collecting / updating
  gpu_mem_gib   device memory in use after training (whole device, incl. Warp), and per env
With --nproc N every rate is the total over the N processes (each rank's steps over the
slowest rank's time) and train_sps_per_gpu = train_sps / N.

A task spec is [RUNNER:]TASK[overrides]:
  Flat-G1                          st_rl's runner (AMP tasks: the AMP runner of their agent cfg)
  skrl:Flat-G1                     skrl's trainer and PPO agent from the task's skrl_ppo YAML
  "Flat-G1[env.events.randomize_joint_friction=null]"   overrides as train.py takes them
  "Amp-Flat-G1[agent.amp.discriminator_matmul=ieee]"

--repeat R runs the whole list R times interleaved (A B A B ...), then prints one summary
line per (task, num_envs, nproc): the median of each rate and train_sps's ratio to the first
task's median (single runs vary by ~20 % on a GPU; medians make comparisons honest).
--summarize FILE prints that summary for the rows of an --out file (e.g. the rows of
several invocations appended to one file; the first task seen is the reference).

--nproc N runs every row as N processes of this host under torchrun (one GPU each,
cuda:<local_rank>; gloo on CPU), training all-reduced as train.py --distributed. Several
hosts: launch one row yourself on each host with
  torchrun --nnodes H --nproc_per_node N --rdzv_backend c10d --rdzv_endpoint HOST0:29400 \\
      benchmarks/throughput.py --distributed --tasks Flat-G1 --num_envs 4096
(rank 0 prints the row). --num_envs is per process.

Usage:
  python benchmarks/throughput.py --tasks Flat-G1 skrl:Flat-G1 --num_envs 4096 --repeat 2 \\
      [--nproc 2] [--device cuda:0] [--out results.jsonl]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from legged_robots.rl.cli import run_main
from legged_robots.rl.errors import StRlError

RUNNERS = ("st_rl", "skrl")
Trainer = tuple[Any, Callable[[int], None], list[Any]]
"""(the object whose ``update`` is the PPO update, learn(iterations), the policy's modules)"""
RATES = ("physics_sps", "env_sps", "train_sps")


def parse_spec(spec: str) -> tuple[str, str, list[str]]:
  """``"skrl:Task[a=1 b=2]"`` -> ``("skrl", "Task", ["a=1", "b=2"])``; runner st_rl by default."""
  match = re.fullmatch(r"(?:(\w+):)?([^\[\]:]+)(?:\[([^\[\]]*)\])?", spec)
  if match is None:
    raise StRlError(f"--tasks {spec!r}: expected [RUNNER:]TASK or [RUNNER:]TASK[key=value ...].")
  runner = match.group(1) or "st_rl"
  if runner not in RUNNERS:
    raise StRlError(f"--tasks {spec!r}: unknown runner '{runner}'; runners: {', '.join(RUNNERS)}.")
  return runner, match.group(2), (match.group(3) or "").split()


def summarize(rows: list[dict], tasks: list[str]) -> list[dict]:
  """Per (task, num_envs, nproc): median of each rate over the rows, and train_sps's median
  over the first task's at the same num_envs and nproc (None where that task has no row)."""
  summary = []
  for n, nproc in sorted({(row["num_envs"], row.get("nproc", 1)) for row in rows}):
    medians = {}
    for task in tasks:
      runs = [r for r in rows if (r["task"], r["num_envs"], r.get("nproc", 1)) == (task, n, nproc)]
      if runs:
        medians[task] = {rate: statistics.median(row[rate] for row in runs) for rate in RATES}
        medians[task]["runs"] = len(runs)
    base = medians.get(tasks[0], {}).get("train_sps")
    for task, median in medians.items():
      ratio = None if not base else round(median["train_sps"] / base, 3)
      row = {"summary": "median", "task": task, "num_envs": n, "nproc": nproc, **median}
      summary.append({**row, "train_sps_ratio": ratio})
  return summary


def _sync(device: str) -> None:
  import torch

  if device.startswith("cuda"):
    torch.cuda.synchronize()


def _used_gib(device: str) -> float | None:
  import torch

  if not device.startswith("cuda"):
    return None
  free, total = torch.cuda.mem_get_info()
  return (total - free) / 2**30


def _configs(runner: str, task: str, overrides: list[str]) -> tuple[Any, Any]:
  """(env cfg, agent cfg) of a row with its overrides applied, keys, types and values
  checked; the agent is st_rl's, or the task's skrl PPO agent. Builds nothing."""
  from legged_robots.rl.task_cfg import checked_run_cfgs

  return checked_run_cfgs(task, overrides, runner)


def _st_rl(task: str, overrides: list[str], num_envs: int, device: str, rank: int):
  """The env, its steps per iteration, and a factory of its ``Trainer``."""
  from mjlab.rl import RslRlVecEnvWrapper

  from legged_robots.rl.runner import runner_class
  from legged_robots.tasks.registry import env_class

  cfg, agent = _configs("st_rl", task, overrides)
  cfg.scene.num_envs = num_envs
  agent.seed += rank  # each process simulates its own envs
  cfg.seed = agent.seed
  env = env_class(task)(cfg, device=device)

  def trainer() -> Trainer:
    wrapped = RslRlVecEnvWrapper(env, clip_actions=agent.clip_actions)
    runner = runner_class(agent)(wrapped, asdict(agent), task, None, device)
    return runner.alg, lambda n: runner.learn(num_learning_iterations=n), runner.policy_modules()

  return env, agent.num_steps_per_env, trainer


def _skrl(task: str, overrides: list[str], num_envs: int, device: str, rank: int):
  """As ``_st_rl``, with skrl's SequentialTrainer and the task's skrl PPO agent."""
  from legged_robots.tasks.registry import env_class

  env_cfg, cfg = _configs("skrl", task, overrides)
  env_cfg.scene.num_envs = num_envs
  cfg.seed += rank
  env_cfg.seed = cfg.seed

  from skrl.trainers.torch import SequentialTrainer, SequentialTrainerCfg

  from legged_robots.rl.skrl.agent import build_agent, check_agent_cfg
  from legged_robots.rl.skrl.distributed import agent_modules
  from legged_robots.rl.skrl.env import SkrlVecEnvWrapper

  check_agent_cfg(cfg, num_envs)
  env = env_class(task)(env_cfg, device=device)
  rollouts = cfg.agent.rollouts

  def trainer() -> Trainer:
    wrapped = SkrlVecEnvWrapper(env, clip_actions=cfg.clip_actions)
    agent = build_agent(cfg, wrapped, device)
    agent.write_interval = 0  # no TensorBoard writer (and no per-iteration hook)
    settings = SequentialTrainerCfg(
      timesteps=rollouts, headless=True, disable_progressbar=True, close_environment_at_exit=False
    )
    sequential = SequentialTrainer(env=wrapped, agents=agent, cfg=settings)

    def learn(iterations: int) -> None:
      sequential.cfg.timesteps = iterations * rollouts
      sequential.train()

    return agent, learn, agent_modules(agent)

  return env, rollouts, trainer


def measure(spec: str, num_envs: int, device: str, steps: int, iters: int, distributed: bool) -> dict | None:
  """One row (module docstring); under torchrun every rank runs it and rank 0 returns it."""
  import torch

  from legged_robots.rl.distributed import (
    Rank,
    device_for,
    init_process_group,
    parameter_checksum,
    rank_from_env,
  )

  runner, task, overrides = parse_spec(spec)
  rank = rank_from_env() if distributed else Rank()
  if distributed:
    device = device_for(rank, device)
  if rank.world_size > 1:
    if runner == "skrl":
      from legged_robots.rl.skrl.distributed import import_skrl_for

      import_skrl_for(rank, device)
    init_process_group(rank, device)
  import torch.distributed as dist

  def slowest(seconds: float) -> float:
    """The slowest rank's time: the rate of all ranks together is their steps over it."""
    if rank.world_size == 1:
      return seconds
    t = torch.tensor(seconds, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t)

  def timed(fn, n: int) -> float:
    fn()  # Warm-up: kernel compilation, CUDA graph capture.
    _sync(device)
    if rank.world_size > 1:
      dist.barrier()
    start = time.perf_counter()
    for _ in range(n):
      fn()
    _sync(device)
    return slowest(time.perf_counter() - start)

  base_mem = _used_gib(device)
  build = _skrl if runner == "skrl" else _st_rl
  t0 = time.perf_counter()
  env, steps_per_env, trainer = build(task, overrides, num_envs, device, rank.rank)
  build_s = time.perf_counter() - t0
  env.reset()
  decimation = env.cfg.decimation
  physics_s = timed(env.sim.step, steps * decimation)
  actions = torch.empty(num_envs, env.action_manager.total_action_dim, device=device)
  env_s = timed(lambda: env.step(actions.uniform_(-1.0, 1.0)), steps)

  updater, learn, modules = trainer()
  update = updater.update
  learn_times: list[float] = []

  def timed_update(*args, **kwargs):
    _sync(device)
    start = time.perf_counter()
    out = update(*args, **kwargs)
    _sync(device)
    learn_times.append(time.perf_counter() - start)
    return out

  updater.update = timed_update
  learn(1)  # Warm-up iteration.
  learn_times.clear()
  _sync(device)
  start = time.perf_counter()
  learn(iters)
  _sync(device)
  train_s = slowest(time.perf_counter() - start)
  learn_s = slowest(sum(learn_times) / len(learn_times))
  mem = _used_gib(device)
  in_sync = None
  if rank.world_size > 1:
    # Equal parameter checksums on all ranks: the training was all-reduced, not N lone runs.
    mine = torch.tensor(parameter_checksum(*modules), dtype=torch.float64, device=device)
    checksums = [torch.zeros_like(mine) for _ in range(rank.world_size)]
    dist.all_gather(checksums, mine)
    in_sync = all(float(c) == float(mine) for c in checksums)
    dist.destroy_process_group()
  if not rank.is_main:
    return None
  world = rank.world_size
  gib = None if mem is None else mem - (base_mem or 0.0)
  train_sps = world * iters * steps_per_env * num_envs / train_s
  return {
    "task": spec,
    "runner": runner,
    "num_envs": num_envs,
    "nproc": world,
    "device": device,
    "build_s": round(build_s, 2),
    "physics_sps": round(world * steps * num_envs / physics_s, 1),
    "env_sps": round(world * steps * num_envs / env_s, 1),
    "train_sps": round(train_sps, 1),
    "train_sps_per_gpu": round(train_sps / world, 1),
    "collect_s": round(train_s / iters - learn_s, 4),
    "learn_s": round(learn_s, 4),
    "ranks_in_sync": in_sync,
    "gpu_mem_gib": None if gib is None else round(gib, 2),
    "mem_per_env_mib": None if gib is None else round(gib * 1024 / num_envs, 3),
  }


def _row_command(args: argparse.Namespace, spec: str, num_envs: int) -> list[str]:
  """A fresh process for one row: plain python, or torchrun with --nproc processes."""
  launch = [sys.executable]
  mode = "--one"
  if args.nproc > 1:
    launch += ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(args.nproc)]
    mode = "--distributed"
  cmd = [*launch, __file__, mode, "--tasks", spec, "--num_envs", str(num_envs), "--device", args.device]
  return [*cmd, "--steps", str(args.steps), "--iters", str(args.iters)]


def _emit(line: str, out: str | None) -> None:
  print(line, flush=True)
  if out:
    with open(out, "a") as f:
      f.write(line + "\n")


def _check_tasks(specs: list[str]) -> None:
  """Unknown task ids, override keys and values are bad input before any row runs (StRlError)."""
  for spec in specs:
    runner, task, overrides = parse_spec(spec)
    _configs(runner, task, overrides)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  add = parser.add_argument
  add("--tasks", nargs="+", default=["Flat-G1", "Mjlab-Velocity-Flat-Unitree-G1"], help="task specs")
  add("--num_envs", nargs="+", type=int, default=[4096], help="envs (per process)")
  add("--device", default="cuda:0", help="cuda:0 or cpu (with --nproc: cuda:<local_rank> or cpu)")
  add("--steps", type=int, default=100, help="control steps timed for env/physics")
  add("--iters", type=int, default=5, help="PPO iterations timed (after one warm-up iteration)")
  add("--repeat", type=int, default=1, help="run the list this many times, interleaved; medians")
  add("--nproc", type=int, default=1, help="processes per row under torchrun (one GPU each)")
  add("--distributed", action="store_true", help="this process is one rank of a torchrun launch")
  add("--out", default=None, help="append JSON lines here")
  add("--summarize", metavar="FILE", help="print the summary of the rows in FILE (an --out file) and exit")
  add("--one", action="store_true", help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  for name in ("num_envs", "steps", "iters", "repeat", "nproc"):
    values = getattr(args, name)
    if min(values if isinstance(values, list) else [values]) < 1:
      parser.error(f"--{name} must be at least 1, got {values}")
  for spec in args.tasks:
    try:
      parse_spec(spec)
    except StRlError as e:
      parser.error(str(e))
  if (args.one or args.distributed) and (len(args.tasks) > 1 or len(args.num_envs) > 1):
    parser.error("--distributed measures one row: give one --tasks spec and one --num_envs")
  return args


def read_rows(path: str) -> list[dict]:
  """The measured rows of an --out file (its summary lines left out)."""
  try:
    lines = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
  except (OSError, ValueError) as e:
    raise StRlError(f"--summarize {path}: not a throughput --out file ({e}).") from None
  rows = [row for row in lines if not (isinstance(row, dict) and "summary" in row)]
  if not rows or not all(isinstance(row, dict) and {"task", "num_envs", *RATES} <= set(row) for row in rows):
    raise StRlError(
      f"--summarize {path}: no throughput rows (JSON lines with task, num_envs, {', '.join(RATES)})."
    )
  return rows


def main() -> int:
  args = parse_args()
  if args.summarize:
    rows = read_rows(args.summarize)
    for line in summarize(rows, list(dict.fromkeys(row["task"] for row in rows))):
      print(json.dumps(line), flush=True)
    return 0
  if args.one or args.distributed:
    result = measure(args.tasks[0], args.num_envs[0], args.device, args.steps, args.iters, args.distributed)
    if result is not None:
      print("RESULT " + json.dumps(result), flush=True)
    return 0
  from legged_robots.rl.task_cfg import resolve_device

  resolve_device(args.device)  # no CUDA here: one message, before any row starts
  _check_tasks(args.tasks)
  rows, failures = [], 0
  for _ in range(args.repeat):
    for spec in args.tasks:
      for n in args.num_envs:
        env = {**os.environ, "MJLAB_WARP_QUIET": "1"}
        proc = subprocess.run(_row_command(args, spec, n), capture_output=True, text=True, env=env)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
          failures += 1
          detail = (proc.stdout[-2000:] + proc.stderr[-3000:]).strip()
          print(f"[throughput] {spec} x {n} failed (exit {proc.returncode}):\n{detail}", file=sys.stderr)
          continue
        rows.append(json.loads(lines[-1].removeprefix("RESULT ")))
        _emit(json.dumps(rows[-1]), args.out)
  if args.repeat > 1:
    for line in summarize(rows, args.tasks):
      _emit(json.dumps(line), args.out)
  return 1 if failures else 0


if __name__ == "__main__":
  run_main(lambda: sys.exit(main()))
