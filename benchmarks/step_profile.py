"""Where an env step's time goes, by manager and by term: torch ops, host syncs, Warp launches, time.

For each task, in this process: build the env with N envs on the device, warm up, then
1. profile ``--steps`` env steps with torch.profiler (uniform random actions in [-1, 1];
   before each step ``--resets`` random envs are pushed to their time limit so every
   profiled step also runs the auto-reset path, as a 4096-env batch does in training);
2. time ``--steps`` more steps with a device synchronisation around every manager call and
   every term (on CUDA: GPU time plus launch cost of that piece; on CPU: its CPU time);
3. time ``--steps`` plain env steps (no probes) for the step rate.

Per step and per section (action, physics, sensors, termination, reward, event, reset,
command, observation, ...) and per term it reports:
  ops     top-level torch ops that do work (views, reshapes without copy, allocations
          and no-op ``to`` calls excluded): each is one or more kernel launches on a GPU
  serial  of those, the ops issued after the step's first host sync: the GPU has nothing
          queued then, so they add to the step time (ops before it overlap the physics)
  syncs   host-device synchronisations: ``aten::_local_scalar_dense`` (``.item()``,
          ``bool(t)``, ``if t.any()``) + ``aten::nonzero`` (``nonzero()``, boolean-mask
          indexing) + ``aten::masked_select``
  new_tensors  tensors made from Python lists: index lists (``x[:, [3, 5]]``, e.g. the
          ids of a SceneEntityCfg) and ``torch.tensor(list, device=...)``; on a GPU each
          is a blocking host-to-device copy, i.e. one more sync (a CPU run cannot tell the
          device: an upper bound). ``serial`` counts them as syncs.
  stream_syncs (CUDA only) the stream/device synchronisations the CUDA runtime saw: the
          exact count of stalls, whatever caused them
  warp    Warp kernel launches and array fills (``wp.launch``/``launch_tiled``, ``fill_``,
          ``zero_``); ``graph`` counts CUDA-graph replays (physics on a GPU)
  ms      wall time per step from the synchronised pass
  launch  (CUDA only) CUDA runtime/driver launch calls seen by the profiler
  kernel_ms (CUDA only) device time of the kernels those calls started

Usage:
  python benchmarks/step_profile.py --tasks Flat-G1 Mjlab-Velocity-Flat-Unitree-G1 \
      --num_envs 64 --device cpu --steps 10 --json /tmp/profile.json
  python benchmarks/step_profile.py --tasks Rough-G1 Mjlab-Velocity-Rough-Unitree-G1 \
      --num_envs 4096 --device cuda:0 --json profile_rough.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
from collections.abc import Iterator

import torch
from step_probe import STEP_RANGE, Probe, attribute, instrument, patch_warp
from torch.profiler import ProfilerActivity, profile, record_function


def _timeout_ids(num_envs: int, count: int, num_steps: int, device: str) -> Iterator[torch.Tensor]:
  """Per step, ``count`` random env ids to put one step before their time limit.

  Drawn up front and moved to the device once: a host-to-device copy per step would
  add a sync to every step measured.
  """
  gen = torch.Generator().manual_seed(0)
  ids = torch.stack([torch.randperm(num_envs, generator=gen)[:count] for _ in range(num_steps)])
  yield from ids.to(device)


def profile_task(task: str, num_envs: int, device: str, steps: int, warmup: int, resets: int) -> dict:

  import legged_robots.tasks  # noqa: F401  (registers st_gym tasks)
  from legged_robots.tasks.registry import env_class, load_env_cfg

  torch.manual_seed(0)
  timeouts = _timeout_ids(num_envs, resets, warmup + 5 * steps + 1, device)
  cfg = load_env_cfg(task)
  cfg.scene.num_envs = num_envs
  cfg.seed = 0
  with contextlib.redirect_stdout(io.StringIO()):  # mjlab prints every manager's table.
    env = env_class(task)(cfg, device=device)
  probe = Probe(device)
  actions = torch.empty(num_envs, env.action_manager.total_action_dim, device=device)

  def step() -> None:
    env.episode_length_buf[next(timeouts)] = env.max_episode_length - 1
    with record_function(STEP_RANGE):
      env.step(actions.uniform_(-1.0, 1.0))

  def sync() -> None:
    if device.startswith("cuda"):
      torch.cuda.synchronize()

  env.reset()
  for _ in range(warmup):
    step()
  sync()
  start = time.perf_counter()
  for _ in range(steps):
    step()
  sync()
  step_ms = (time.perf_counter() - start) / steps * 1000

  instrument(env, probe)
  patch_warp(probe)
  step()  # First probed step outside the profile (lazy allocations in the wrappers' paths).
  activities = [ProfilerActivity.CPU]
  if device.startswith("cuda"):
    activities.append(ProfilerActivity.CUDA)
  probe.counting = True
  with profile(activities=activities, record_shapes=True) as prof:
    for _ in range(steps):
      step()
    sync()
  probe.counting = False
  sections, terms = attribute(prof.events())
  for (section, label), n in probe.warp.items():
    sections[section]["warp"] += n
    terms[label]["warp"] += n
  for section, n in probe.graph.items():
    sections[section]["graph"] += n

  # On a GPU the synchronised time is the piece's cost; the unsynchronised one is what the
  # CPU spends issuing it. On the CPU they are the same, so only one pass runs.
  for mode in ("ms", "issue_ms") if device.startswith("cuda") else ("ms",):
    probe.timing = mode
    for _ in range(steps):
      step()
    sync()
  probe.timing = None
  for (mode, label), seconds in probe.seconds.items():
    (terms if "/" in label else sections)[label][mode] = seconds * 1000

  def per_step(table: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {k: {m: round(v / steps, 3) for m, v in row.items()} for k, row in sorted(table.items())}

  result = {
    "task": task,
    "num_envs": num_envs,
    "device": device,
    "steps": steps,
    "forced_resets_per_step": resets,
    "step_ms": round(step_ms, 3),
    "env_steps_per_s": round(num_envs / step_ms * 1000),
    "sections": per_step(sections),
    "terms": per_step(terms),
    "reward_terms": len(env.reward_manager.active_terms),
    "contact_sensors": sum(1 for s in env.scene.sensors.values() if type(s).__name__ == "ContactSensor"),
    "mujoco_sensors": env.sim.mj_model.nsensor,
    "expanded_model_fields": sorted(env.sim.expanded_fields),
  }
  env.close()
  return result


METRICS = (
  "ops",
  "serial",
  "syncs",
  "new_tensors",
  "stream_syncs",
  "warp",
  "graph",
  "ms",
  "issue_ms",
  "launch",
  "kernel_ms",
)


def _fmt(value: float | None) -> str:
  if value is None:
    return "-"
  return f"{value:.0f}" if value >= 100 or value == int(value) else f"{value:.2f}"


def _table(results: list[dict], key: str, title: str, min_ops: float = 0.0) -> str:
  """Rows = sections or terms, columns = metric x task."""
  metrics = [m for m in METRICS if any(m in row for r in results for row in r[key].values())]
  names = sorted({name for r in results for name in r[key]})
  names = [n for n in names if any(r[key].get(n, {}).get("ops", 0) >= min_ops for r in results)]
  head = [
    "| " + title + " | " + " | ".join(f"{m} [{i}]" for m in metrics for i in range(len(results))) + " |"
  ]
  head.append("|---" * (1 + len(metrics) * len(results)) + "|")
  rows = []
  for name in names:
    cells = [_fmt(r[key].get(name, {}).get(m)) for m in metrics for r in results]
    rows.append(f"| {name} | " + " | ".join(cells) + " |")
  total = ["**total**"]
  for m in metrics:
    for r in results:
      nested_times = key == "terms" and m in ("ms", "issue_ms")  # Term times nest; no sum.
      total.append("" if nested_times else _fmt(sum(row.get(m, 0.0) for row in r[key].values())))
  rows.append("| " + " | ".join(total) + " |")
  return "\n".join(head + rows)


def report(results: list[dict]) -> str:
  legend = "\n".join(
    f"[{i}] {r['task']}: {r['num_envs']} envs on {r['device']}, {r['step_ms']:.1f} ms/step "
    f"({r['env_steps_per_s']} env-steps/s, no probes), {r['reward_terms']} reward terms, "
    f"{r['contact_sensors']} contact sensors ({r['mujoco_sensors']} MuJoCo sensors), "
    f"{len(r['expanded_model_fields'])} per-env model fields"
    for i, r in enumerate(results)
  )
  note = (
    "Per env step. Sections do not nest; a term (reward/, obs/, reset/, event/, ...) is "
    "also counted in its section. `serial` = ops after the step's first host sync; `ms` "
    "has a device sync around every piece, `issue_ms` none (CPU issue time, CUDA only)."
  )
  return "\n\n".join(
    [legend, note, _table(results, "sections", "section"), _table(results, "terms", "term", min_ops=1.0)]
  )


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--tasks", nargs="+", default=["Flat-G1", "Mjlab-Velocity-Flat-Unitree-G1"])
  parser.add_argument("--num_envs", type=int, default=64)
  parser.add_argument("--device", default="cpu")
  parser.add_argument("--steps", type=int, default=10, help="steps per pass (profiled, timed, plain)")
  parser.add_argument("--warmup", type=int, default=3)
  parser.add_argument("--resets", type=int, default=1, help="envs forced to time out before each step")
  parser.add_argument("--json", default=None, help="write all results here as JSON")
  args = parser.parse_args()
  if args.device.startswith("cuda") and not torch.cuda.is_available():
    print(f"--device {args.device}: CUDA is not available in this torch build; use --device cpu.")
    return 2
  if args.steps < 1 or args.num_envs < 1:
    print("--steps and --num_envs must be positive.")
    return 2
  if not 0 <= args.resets <= args.num_envs:
    print(f"--resets must be in [0, --num_envs={args.num_envs}], got {args.resets}.")
    return 2
  results = [
    profile_task(t, args.num_envs, args.device, args.steps, args.warmup, args.resets) for t in args.tasks
  ]
  print(report(results))
  if args.json:
    with open(args.json, "w") as f:
      json.dump(results, f, indent=1)
  return 0


if __name__ == "__main__":
  sys.exit(main())
