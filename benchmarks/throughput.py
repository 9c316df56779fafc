"""Throughput of st_gym tasks beside mjlab's own: physics, env step and PPO training.

For every (task, num_envs) pair, in a fresh process each, prints one JSON line:
  physics_sps   physics-only steps/s x num_envs (env.sim.step, no managers)
  env_sps       env.step with uniform random actions in [-1, 1] (control steps x envs / s)
  train_sps     rsl_rl PPO iterations (collection + update), env steps / s
  collect_s, learn_s  mean seconds per PPO iteration spent collecting / updating
  gpu_mem_gib   device memory in use after training (whole device, incl. Warp), and per env

A task may carry config overrides in brackets, as train.py takes them, to price a
variant beside the task as registered (e.g. the same physics as mjlab's task):
  "Flat-G1[env.events.randomize_joint_friction=null]"

Usage:
  python benchmarks/throughput.py --tasks Flat-G1 Mjlab-Velocity-Flat-Unitree-G1 \
      --num_envs 1024 4096 --device cuda:0 --out results.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict


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


def split_variant(spec: str) -> tuple[str, list[str]]:
  """``"Task[a=1 b=2]"`` -> ``("Task", ["a=1", "b=2"])``; a plain id has no overrides."""
  match = re.fullmatch(r"([^\[\]]+)(?:\[([^\[\]]*)\])?", spec)
  if match is None:
    raise SystemExit(f"--tasks {spec!r}: expected TASK or TASK[key=value ...].")
  return match.group(1), (match.group(2) or "").split()


def measure(spec: str, num_envs: int, device: str, steps: int, iters: int) -> dict:
  import torch
  from mjlab.rl import MjlabOnPolicyRunner, RslRlVecEnvWrapper

  import legged_robots.tasks  # noqa: F401  (registers st_gym tasks)
  from legged_robots.rl.task_cfg import apply_cfg_overrides, checked_overrides, load_task_cfgs
  from legged_robots.tasks.registry import env_class

  task, overrides = split_variant(spec)
  base_mem = _used_gib(device)
  cfgs = load_task_cfgs(task, play=False)
  apply_cfg_overrides(cfgs, checked_overrides(overrides))
  cfg, agent = cfgs.env, cfgs.agent
  cfg.scene.num_envs = num_envs
  t0 = time.perf_counter()
  env = env_class(task)(cfg, device=device)
  build_s = time.perf_counter() - t0
  num_actions = env.action_manager.total_action_dim
  env.reset()

  def timed(fn, n: int) -> float:
    fn()  # Warm-up: kernel compilation, CUDA graph capture.
    _sync(device)
    start = time.perf_counter()
    for _ in range(n):
      fn()
    _sync(device)
    return time.perf_counter() - start

  physics_s = timed(env.sim.step, steps * cfg.decimation)
  actions = torch.empty(num_envs, num_actions, device=device)
  env_s = timed(lambda: env.step(actions.uniform_(-1.0, 1.0)), steps)

  vec_env = RslRlVecEnvWrapper(env, clip_actions=agent.clip_actions)
  runner = MjlabOnPolicyRunner(vec_env, asdict(agent), None, device)
  update = runner.alg.update
  learn_times: list[float] = []

  def timed_update():
    _sync(device)
    start = time.perf_counter()
    out = update()
    _sync(device)
    learn_times.append(time.perf_counter() - start)
    return out

  runner.alg.update = timed_update
  runner.learn(num_learning_iterations=1)  # Warm-up iteration.
  learn_times.clear()
  _sync(device)
  start = time.perf_counter()
  runner.learn(num_learning_iterations=iters)
  _sync(device)
  train_s = time.perf_counter() - start
  steps_per_iter = agent.num_steps_per_env * num_envs
  learn_s = sum(learn_times) / len(learn_times)
  mem = _used_gib(device)
  return {
    "task": spec,
    "num_envs": num_envs,
    "device": device,
    "build_s": round(build_s, 2),
    "physics_sps": round(steps * cfg.decimation * num_envs / physics_s / cfg.decimation),
    "env_sps": round(steps * num_envs / env_s),
    "train_sps": round(iters * steps_per_iter / train_s),
    "collect_s": round(train_s / iters - learn_s, 4),
    "learn_s": round(learn_s, 4),
    "gpu_mem_gib": None if mem is None else round(mem - (base_mem or 0.0), 2),
    "mem_per_env_mib": None if mem is None else round((mem - (base_mem or 0.0)) * 1024 / num_envs, 3),
  }


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--tasks", nargs="+", default=["Flat-G1", "Mjlab-Velocity-Flat-Unitree-G1"])
  parser.add_argument("--num_envs", nargs="+", type=int, default=[4096])
  parser.add_argument("--device", default="cuda:0")
  parser.add_argument("--steps", type=int, default=100, help="control steps timed for env/physics")
  parser.add_argument("--iters", type=int, default=5, help="PPO iterations timed")
  parser.add_argument("--out", default=None, help="append JSON lines here")
  parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.one:
    result = measure(args.tasks[0], args.num_envs[0], args.device, args.steps, args.iters)
    print("RESULT " + json.dumps(result), flush=True)
    return 0
  failures = 0
  for task in args.tasks:
    for n in args.num_envs:
      cmd = [
        sys.executable,
        __file__,
        "--one",
        "--tasks",
        task,
        "--num_envs",
        str(n),
        "--device",
        args.device,
      ]
      cmd += ["--steps", str(args.steps), "--iters", str(args.iters)]
      proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "MJLAB_WARP_QUIET": "1"})
      lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
      if proc.returncode != 0 or not lines:
        failures += 1
        print(
          f"[throughput] {task} x {n} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}",
          file=sys.stderr,
        )
        continue
      line = lines[-1].removeprefix("RESULT ")
      print(line, flush=True)
      if args.out:
        with open(args.out, "a") as f:
          f.write(line + "\n")
  return 1 if failures else 0


if __name__ == "__main__":
  sys.exit(main())
