"""What each domain-randomization event and contact sensor costs the physics of a task.

For the task as registered and for one variant per removable item, in this process:
build the env, run ``--warmup`` env steps with uniform random actions (so contacts and
joint limits are as in early training), then time ``--steps`` env steps and the physics
alone (``env.sim.step`` x decimation, same number of control steps). Items:
  without:<event>   a startup event that randomizes model fields (each such field is
                    stored per env; joint friction also adds a constraint row per joint)
  without:<sensor>  a contact sensor, with the reward/observation/termination terms
                    (and weight schedules of those rewards) that read it
The variants change what the task trains on; they only price each item.

Usage:
  python benchmarks/physics_ablation.py --task Flat-G1 --num_envs 4096 --device cuda:0
  python benchmarks/physics_ablation.py --task Flat-G1 --num_envs 64 --device cpu \
      --only baseline without:randomize_joint_friction
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import sys
import time
from typing import Any

import torch


def _sync(device: str) -> None:
  if device.startswith("cuda"):
    torch.cuda.synchronize()


def _drop_sensor(cfg: Any, name: str) -> None:
  """Remove contact sensor ``name`` and every term that reads it."""
  cfg.scene.sensors = tuple(s for s in cfg.scene.sensors if s.name != name)
  groups = [cfg.rewards, cfg.terminations, cfg.events] + [g.terms for g in cfg.observations.values()]
  for terms in groups:
    for key in [k for k, term in terms.items() if term.params.get("sensor_name") == name]:
      del terms[key]
  # Weight schedules of removed reward terms go too.
  for key in [k for k, c in cfg.curriculum.items() if c.params.get("term_name", k) not in cfg.rewards]:
    if "term_name" in cfg.curriculum[key].params:
      del cfg.curriculum[key]


def variants(task: str) -> list[str]:
  """'baseline', then 'without:<item>' per model-field randomization and per contact sensor."""
  from mjlab.sensor import ContactSensorCfg

  from legged_robots.tasks.registry import load_env_cfg

  cfg = load_env_cfg(task)
  events = [k for k, e in cfg.events.items() if e.mode == "startup" and hasattr(e.func, "model_fields")]
  sensors = [s.name for s in cfg.scene.sensors if isinstance(s, ContactSensorCfg)]
  return ["baseline", *(f"without:{name}" for name in events + sensors)]


def measure(task: str, variant: str, num_envs: int, device: str, warmup: int, steps: int) -> dict:
  from legged_robots.tasks.registry import env_class, load_env_cfg

  cfg = load_env_cfg(task)
  cfg.scene.num_envs = num_envs
  cfg.seed = 0
  name = variant.removeprefix("without:")
  if variant != "baseline":
    if name in cfg.events:
      del cfg.events[name]
    else:
      _drop_sensor(cfg, name)
  torch.manual_seed(0)
  with contextlib.redirect_stdout(io.StringIO()):  # mjlab prints every manager's table.
    env = env_class(task)(cfg, device=device)
  actions = torch.empty(num_envs, env.action_manager.total_action_dim, device=device)
  env.reset()
  for _ in range(warmup):
    env.step(actions.uniform_(-1.0, 1.0))
  data = env.sim.data
  nefc = data.nefc.float().mean().item()
  ncon = data.nacon.float().sum().item() / num_envs
  _sync(device)
  start = time.perf_counter()
  for _ in range(steps):
    env.step(actions.uniform_(-1.0, 1.0))
  _sync(device)
  step_ms = (time.perf_counter() - start) / steps * 1000
  start = time.perf_counter()
  for _ in range(steps * cfg.decimation):
    env.sim.step()
  _sync(device)
  physics_ms = (time.perf_counter() - start) / steps * 1000
  result = {
    "task": task,
    "variant": variant,
    "num_envs": num_envs,
    "device": device,
    "env_step_ms": round(step_ms, 3),
    "physics_ms_per_step": round(physics_ms, 3),
    "constraint_rows_per_env": round(nefc, 1),
    "contacts_per_env": round(ncon, 1),
    "mujoco_sensors": env.sim.mj_model.nsensor,
    "per_env_model_fields": len(env.sim.expanded_fields),
  }
  env.close()
  del env
  gc.collect()
  if device.startswith("cuda"):
    torch.cuda.empty_cache()
  return result


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--task", default="Flat-G1")
  parser.add_argument("--num_envs", type=int, default=4096)
  parser.add_argument("--device", default="cuda:0")
  parser.add_argument("--warmup", type=int, default=30, help="random-action env steps before timing")
  parser.add_argument("--steps", type=int, default=50, help="control steps timed")
  parser.add_argument("--only", nargs="+", default=None, help="variants to run (default: all)")
  parser.add_argument("--json", default=None, help="write the results here")
  args = parser.parse_args()
  if args.device.startswith("cuda") and not torch.cuda.is_available():
    print(f"--device {args.device}: CUDA is not available in this torch build; use --device cpu.")
    return 2
  import legged_robots.tasks  # noqa: F401  (registers st_gym tasks)

  names = variants(args.task)
  chosen = args.only or names
  unknown = sorted(set(chosen) - set(names))
  if unknown:
    print(f"Unknown variants {unknown} for {args.task}; available: {names}.")
    return 2
  results = []
  print("| variant | env step ms | physics ms/step | constraint rows/env | contacts/env | MuJoCo sensors |")
  print("|---|---|---|---|---|---|")
  for variant in chosen:
    r = measure(args.task, variant, args.num_envs, args.device, args.warmup, args.steps)
    results.append(r)
    print(
      f"| {variant} | {r['env_step_ms']:.2f} | {r['physics_ms_per_step']:.2f} | "
      f"{r['constraint_rows_per_env']} | {r['contacts_per_env']} | {r['mujoco_sensors']} |",
      flush=True,
    )
  if args.json:
    with open(args.json, "w") as f:
      json.dump(results, f, indent=1)
  return 0


if __name__ == "__main__":
  sys.exit(main())
