"""Probes for benchmarks/step_profile.py: label an env's manager calls and terms, count
Warp launches, and attribute torch profiler events to those labels.

``instrument(env, probe)`` wraps each manager call of ``env.step`` (a *section*) and each
manager term in a ``record_function`` range; ``attribute(prof.events())`` then counts, per
section and per term, the torch ops that do work, the host syncs, the tensors built from
Python lists, and (on CUDA) the launch calls and their kernels' device time.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.profiler import record_function

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


_WARP_PROBE: list[Probe] = []  # The probe that Warp launches count into (patched once).


def patch_warp(probe: Probe) -> None:
  """Count Warp launches and fills into ``probe``, whichever module calls them."""
  import warp as wp

  patched = bool(_WARP_PROBE)
  _WARP_PROBE[:] = [probe]
  if patched:
    return

  def counted(fn: Callable, kind: str) -> Callable:
    def inner(*args, **kwargs):
      current = _WARP_PROBE[0]
      if kind == "graph":
        current.count_graph()
      else:
        current.count_warp()
      counting = current.counting
      current.counting = False  # launch_tiled calls launch: count the outer call once.
      try:
        return fn(*args, **kwargs)
      finally:
        current.counting = counting

    return inner

  wp.launch = counted(wp.launch, "kernel")
  wp.launch_tiled = counted(wp.launch_tiled, "kernel")
  wp.capture_launch = counted(wp.capture_launch, "graph")
  wp.array.fill_ = counted(wp.array.fill_, "kernel")
  wp.array.zero_ = counted(wp.array.zero_, "kernel")


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
