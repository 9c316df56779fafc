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
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile, record_function

PREFIX = "sp:"
STEP_RANGE = "step_profile.step"
# Ops that only make a new view, allocate, or change nothing: no kernel on a GPU
# unless they call a real op inside (e.g. reshape of a non-contiguous tensor copies).
_VIEW_NAMES = (
  "view alias as_strided _reshape_alias reshape select slice unsqueeze squeeze expand expand_as "
  "permute transpose t unbind split split_with_sizes chunk narrow detach lift_fresh empty empty_like "
  "empty_strided resize_ set_ unfold diagonal flatten to contiguous view_as numpy_T _unsafe_view "
  "unflatten movedim"
)
VIEW_OPS = frozenset(f"aten::{name}" for name in _VIEW_NAMES.split())
SYNC_OPS = frozenset({"aten::_local_scalar_dense", "aten::nonzero", "aten::masked_select"})
# A tensor made from Python data (torch.tensor(list), as_tensor(list)): on a GPU, a
# blocking host-to-device copy, which waits for the stream like any other sync.
NEW_TENSOR_OP = "aten::lift_fresh"
STREAM_SYNC_CALLS = frozenset(
  {"cudaStreamSynchronize", "cudaDeviceSynchronize", "cuStreamSynchronize", "cudaEventSynchronize"}
)
LAUNCH_CALLS = (
  "cudaLaunchKernel",
  "cuLaunchKernel",
  "cudaLaunchKernelExC",
  "cuLaunchKernelEx",
  "cudaGraphLaunch",
  "cuGraphLaunch",
  "cudaMemcpyAsync",
  "cudaMemsetAsync",
  "cuMemcpyAsync",
  "cuMemsetD8Async",
  "cuMemsetD32Async",
)


class Probe:
  """Labels manager calls and terms; counts Warp launches and times the labelled pieces."""

  def __init__(self, device: str) -> None:
    self.device = device
    self.stack: list[str] = []
    self.warp: dict[tuple[str, str], int] = defaultdict(int)
    self.graph: dict[str, int] = defaultdict(int)
    self.seconds: dict[tuple[str, str], float] = defaultdict(float)
    self.timing: str | None = None
    """None, "ms" (device sync around every piece) or "issue_ms" (no sync: CPU issue time)."""
    self.counting = False

  def _sync(self) -> None:
    if self.timing == "ms" and self.device.startswith("cuda"):
      torch.cuda.synchronize()

  @contextmanager
  def section(self, label: str) -> Iterator[None]:
    self.stack.append(label)
    self._sync()
    start = time.perf_counter()
    try:
      with record_function(PREFIX + label):
        yield
    finally:
      self._sync()
      if self.timing is not None:
        self.seconds[(self.timing, label)] += time.perf_counter() - start
      self.stack.pop()

  def where(self) -> tuple[str, str]:
    """(section, innermost label) of the code running now."""
    if not self.stack:
      return "env.step (rest)", "env.step (rest)"
    return self.stack[0], self.stack[-1]

  def wrap_method(self, obj: Any, name: str, label: str | Callable[..., str]) -> None:
    """Replace ``obj.name`` by a labelled call; ``label`` may depend on the call's arguments."""
    original = getattr(obj, name)

    def labelled(*args, **kwargs):
      text = label(*args, **kwargs) if callable(label) else label
      with self.section(text):
        return original(*args, **kwargs)

    setattr(obj, name, labelled)

  def wrap_term(self, term_cfg: Any, label: str) -> None:
    """Label a manager term; class-based terms keep their other methods (reset, ...)."""
    term_cfg.func = _LabelledTerm(term_cfg.func, label, self)

  def count_warp(self, *_args, **_kwargs) -> None:
    if self.counting:
      self.warp[self.where()] += 1

  def count_graph(self, *_args, **_kwargs) -> None:
    if self.counting:
      self.graph[self.where()[0]] += 1


class _LabelledTerm:
  """A term callable run inside a probe section; attribute access goes to the term."""

  def __init__(self, func: Any, label: str, probe: Probe) -> None:
    self._func, self._label, self._probe = func, label, probe

  def __call__(self, *args, **kwargs):
    with self._probe.section(self._label):
      return self._func(*args, **kwargs)

  def __getattr__(self, name: str) -> Any:
    return getattr(self._func, name)


def _patch_warp(probe: Probe) -> None:
  """Count Warp launches and fills, whichever module calls them (counts only when enabled)."""
  import warp as wp

  def counted(fn: Callable, counter: Callable) -> Callable:
    def inner(*args, **kwargs):
      counter()
      depth = probe.counting
      probe.counting = False  # launch_tiled calls launch: count the outer call once.
      try:
        return fn(*args, **kwargs)
      finally:
        probe.counting = depth

    return inner

  wp.launch = counted(wp.launch, probe.count_warp)
  wp.launch_tiled = counted(wp.launch_tiled, probe.count_warp)
  wp.capture_launch = counted(wp.capture_launch, probe.count_graph)
  wp.array.fill_ = counted(wp.array.fill_, probe.count_warp)
  wp.array.zero_ = counted(wp.array.zero_, probe.count_warp)


def instrument(env: Any, probe: Probe) -> None:
  """Put a probe section around each manager call of ``env.step`` and around every term."""
  probe.wrap_method(env.action_manager, "process_action", "action.process")
  probe.wrap_method(env.action_manager, "apply_action", "action.apply")
  probe.wrap_method(env.scene, "write_data_to_sim", "scene.write")
  probe.wrap_method(env.sim, "step", "physics.step")
  probe.wrap_method(env.sim, "forward", "physics.forward")
  probe.wrap_method(env.sim, "sense", "sensors.sense")
  probe.wrap_method(env.scene, "update", "sensors.update")
  probe.wrap_method(env.termination_manager, "compute", "termination")
  probe.wrap_method(env.reward_manager, "compute", "reward")
  probe.wrap_method(env.metrics_manager, "compute", "metrics")
  probe.wrap_method(env.metrics_manager, "compute_substep", "metrics")
  probe.wrap_method(
    env.event_manager, "apply", lambda mode, *a, **k: "reset/events" if mode == "reset" else f"event.{mode}"
  )
  probe.wrap_method(env, "_reset_idx", "reset")
  probe.wrap_method(env.sim, "reset", "reset/sim")
  probe.wrap_method(env.scene, "reset", "reset/scene")
  probe.wrap_method(env.curriculum_manager, "compute", "reset/curriculum")
  for manager in (
    "observation",
    "action",
    "reward",
    "metrics",
    "curriculum",
    "command",
    "event",
    "termination",
  ):
    probe.wrap_method(getattr(env, f"{manager}_manager"), "reset", f"reset/{manager}_manager")
  probe.wrap_method(env.command_manager, "compute", "command")
  probe.wrap_method(env.observation_manager, "compute", "observation")
  probe.wrap_method(env.recorder_manager, "record_post_step", "recorder")
  for name, cfg in zip(env.reward_manager._term_names, env.reward_manager._term_cfgs, strict=True):
    probe.wrap_term(cfg, f"reward/{name}")
  for name, cfg in zip(env.termination_manager._term_names, env.termination_manager._term_cfgs, strict=True):
    probe.wrap_term(cfg, f"termination/{name}")
  for mode, names in env.event_manager._mode_term_names.items():
    for name, cfg in zip(names, env.event_manager._mode_term_cfgs[mode], strict=True):
      probe.wrap_term(cfg, f"event/{name}")
  for group, names in env.observation_manager._group_obs_term_names.items():
    for name, cfg in zip(names, env.observation_manager._group_obs_term_cfgs[group], strict=True):
      probe.wrap_term(cfg, f"obs/{group}/{name}")
  for name, term in env.command_manager._terms.items():
    probe.wrap_method(term, "compute", f"command/{name}")
  curriculum = getattr(env.curriculum_manager, "_term_cfgs", [])
  for name, cfg in zip(getattr(env.curriculum_manager, "_term_names", []), curriculum, strict=True):
    probe.wrap_term(cfg, f"curriculum/{name}")


def _is_real(event: Any) -> bool:
  """An op that does work: not a view/allocation, or one that calls a real op."""
  if event.name not in VIEW_OPS:
    return True
  return any(_is_real(child) for child in event.cpu_children if child.name.startswith("aten::"))


def _labels(event: Any) -> tuple[list[str], bool, Any]:
  """Probe labels around ``event`` (outermost first), whether an aten op encloses it, its step range."""
  labels: list[str] = []
  nested = False
  step = None
  parent = event.cpu_parent
  while parent is not None:
    if parent.name.startswith(PREFIX):
      labels.append(parent.name.removeprefix(PREFIX))
    elif parent.name == STEP_RANGE:
      step = parent
    elif parent.name.startswith("aten::"):
      nested = True
    parent = parent.cpu_parent
  return labels[::-1], nested, step


def attribute(events: Any) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
  """Count ops, syncs and CUDA launches per section (outermost label) and per term (innermost).

  ``serial`` counts the ops that start after the first host sync (or new tensor from a
  list) of their env step: the CPU must issue those while the GPU has nothing queued, so
  they add to the step time, whereas ops issued before the first sync overlap with the
  physics running on the GPU.
  """
  sections: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
  terms: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
  kernel_us: dict[int, float] = defaultdict(float)  # CUDA correlation id -> kernel time.
  for e in events:
    if e.device_type != torch.autograd.DeviceType.CPU:
      kernel_us[e.id] += e.time_range.elapsed_us()
  first_sync: dict[int, float] = {}
  counted: list[tuple[Any, str, str, Any]] = []
  for e in events:
    if e.device_type != torch.autograd.DeviceType.CPU or e.name.startswith(PREFIX) or e.name == STEP_RANGE:
      continue
    labels, nested, step = _labels(e)
    section = labels[0] if labels else "env.step (rest)"
    term = labels[-1] if labels else section
    counts: list[tuple[str, float]] = []
    if e.name.startswith("aten::") and not nested and _is_real(e):
      counts.append(("ops", 1))
      counted.append((e, section, term, step))
    # 0-dim lifts are Python scalars (``t[i] = 0.0``); others come from lists: an index list
    # (``x[:, [3, 5]]``) or ``torch.tensor(list, device=...)``, a blocking copy on a GPU.
    new_tensor = e.name == NEW_TENSOR_OP and not nested and bool(e.input_shapes and e.input_shapes[0])
    if new_tensor:
      counts.append(("new_tensors", 1))
    if e.name in STREAM_SYNC_CALLS:
      counts.append(("stream_syncs", 1))
    if e.name in SYNC_OPS:
      counts.append(("syncs", 1))
    if (new_tensor or e.name in SYNC_OPS or e.name in STREAM_SYNC_CALLS) and step is not None:
      start = e.time_range.start
      first_sync[id(step)] = min(first_sync.get(id(step), start), start)
    if e.name in LAUNCH_CALLS:
      counts += [("launch", 1), ("kernel_ms", kernel_us.get(e.id, 0.0) / 1000)]
    for key, value in counts:
      sections[section][key] += value
      terms[term][key] += value
  for e, section, term, step in counted:
    if step is not None and e.time_range.start > first_sync.get(id(step), float("inf")):
      sections[section]["serial"] += 1
      terms[term]["serial"] += 1
  return sections, terms


def _timeout_ids(num_envs: int, count: int, num_steps: int, device: str) -> Iterator[torch.Tensor]:
  """Per step, ``count`` random env ids to put one step before their time limit.

  Drawn up front and moved to the device once: a host-to-device copy per step would
  add a sync to every step measured.
  """
  gen = torch.Generator().manual_seed(0)
  ids = torch.stack([torch.randperm(num_envs, generator=gen)[:count] for _ in range(num_steps)])
  yield from ids.to(device)


def profile_task(task: str, num_envs: int, device: str, steps: int, warmup: int, resets: int) -> dict:
  from mjlab.envs import ManagerBasedRlEnv

  import legged_robots.tasks  # noqa: F401  (registers st_gym tasks)
  from legged_robots.tasks.registry import load_env_cfg

  torch.manual_seed(0)
  timeouts = _timeout_ids(num_envs, resets, warmup + 5 * steps + 1, device)
  cfg = load_env_cfg(task)
  cfg.scene.num_envs = num_envs
  cfg.seed = 0
  with contextlib.redirect_stdout(io.StringIO()):  # mjlab prints every manager's table.
    env = ManagerBasedRlEnv(cfg, device=device)
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
  _patch_warp(probe)
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
