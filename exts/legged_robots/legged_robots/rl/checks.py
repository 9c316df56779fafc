"""Value checks of the st_rl command lines, run before anything is built or written.

The type of every override is checked by ``overrides``; this module checks what a type
cannot say: counts that must be positive, rates and gains that must be positive and
finite, no NaN anywhere in either config and no infinite reward weight (a NaN weight makes
every reward NaN, and the env then resets every env each step: training would run and
learn nothing). Each failure is a ``StRlError`` naming the flag or key, the value, and
the fix.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

from mjlab.envs import ManagerBasedRlEnvCfg
from mjlab.rl import RslRlOnPolicyRunnerCfg

from legged_robots.rl.errors import StRlError


def _fix(name: str, wanted: str) -> str:
  key = name.split(" ")[0]
  return f"pass {key} {wanted}" if key.startswith("--") else f"set {key}={wanted}"


def at_least(name: str, value: int | None, low: int = 1) -> None:
  """An integer count (flag or key) that must be at least low; None means unset."""
  if value is not None and value < low:
    raise StRlError(f"{name} must be at least {low}, got {value}: {_fix(name, 'N')} with N >= {low}.")


def positive(name: str, value: float | None, allow_zero: bool = False, upper: float | None = None) -> None:
  """A finite number > 0 (>= 0 with allow_zero, <= upper if given); None means unset."""
  if value is None:
    return
  low_ok = value >= 0 if allow_zero else value > 0
  if not (math.isfinite(value) and low_ok and (upper is None or value <= upper)):
    bound = ">= 0" if allow_zero else "> 0"
    within = f" and <= {upper}" if upper is not None else ""
    raise StRlError(f"{name} must be a finite number {bound}{within}, got {value}: {_fix(name, 'V')}.")


def _floats(node: Any, path: str, seen: set[int]) -> Iterator[tuple[str, float]]:
  """Every float under a config node (dataclasses, mappings, sequences), with its key."""
  if isinstance(node, float):
    yield path, node
    return
  if isinstance(node, (str, bytes, int, type(None))) or id(node) in seen:
    return
  seen.add(id(node))
  if dataclasses.is_dataclass(node) and not isinstance(node, type):
    children = ((f"{path}.{f.name}", getattr(node, f.name)) for f in dataclasses.fields(node))
  elif isinstance(node, dict):
    children = ((f"{path}.{key}", value) for key, value in node.items())
  elif isinstance(node, (list, tuple)):
    children = ((f"{path}[{i}]", value) for i, value in enumerate(node))
  else:
    return
  for child_path, child in children:
    yield from _floats(child, child_path, seen)


def no_nan(root: str, cfg: Any) -> None:
  """No NaN anywhere under cfg: a NaN is never a setting (an inf may be: an open range)."""
  for path, value in _floats(cfg, root, set()):
    if math.isnan(value):
      raise StRlError(f"{path} is nan: set it to a number.")


def check_env_cfg(env: ManagerBasedRlEnvCfg) -> None:
  """Sizes and times of the env cfg after flags and overrides; no NaN; finite reward weights."""
  no_nan("env", env)
  for name, term in env.rewards.items():
    weight = getattr(term, "weight", None)
    if weight is not None and not math.isfinite(weight):
      raise StRlError(f"env.rewards.{name}.weight must be a finite number, got {weight}: set it to a number.")
  at_least("env.scene.num_envs (--num_envs)", env.scene.num_envs)
  at_least("env.decimation", env.decimation)
  positive("env.episode_length_s", env.episode_length_s)
  positive("env.sim.mujoco.timestep", env.sim.mujoco.timestep)


def check_agent_cfg(agent: RslRlOnPolicyRunnerCfg) -> None:
  """PPO's counts and rates after flags and overrides; no NaN."""
  no_nan("agent", agent)
  at_least("agent.max_iterations (--max_iterations)", agent.max_iterations)
  at_least("agent.num_steps_per_env", agent.num_steps_per_env)
  at_least("agent.save_interval", agent.save_interval)
  algo: Any = agent.algorithm
  for field in ("num_learning_epochs", "num_mini_batches"):
    at_least(f"agent.algorithm.{field}", getattr(algo, field, None))
  for field in ("learning_rate", "clip_param", "max_grad_norm", "desired_kl"):
    positive(f"agent.algorithm.{field}", getattr(algo, field, None))
  for field in ("entropy_coef", "value_loss_coef"):
    positive(f"agent.algorithm.{field}", getattr(algo, field, None), allow_zero=True)
  for field in ("gamma", "lam"):
    positive(f"agent.algorithm.{field}", getattr(algo, field, None), upper=1.0)
  if agent.clip_actions is not None:
    positive("agent.clip_actions", agent.clip_actions)
