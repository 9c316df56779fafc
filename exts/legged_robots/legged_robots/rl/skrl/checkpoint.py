"""skrl checkpoints: ``model_<iter>.pt`` in the run folder, as st_rl's, in skrl's own layout.

The file is what skrl's ``Agent.save`` writes (module name -> state dict: ``policy``,
``value``, ``optimizer``, the preprocessors, ``discriminator``...), so skrl's
``agent.load(path)`` reads it too, plus one ``st_gym`` entry: library, skrl version,
algorithm, iteration (the last finished one, 0-based), the env's observation/state/action
sizes and its step counter. Files go through ``rl.checkpoint.atomic_torch_save``, and
``--load_run``/``--checkpoint`` resolve as st_rl's (``rl.checkpoint.resolve_checkpoint``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import skrl
from skrl.agents.torch import Agent

from legged_robots.rl.checkpoint import atomic_torch_save, load_torch_file
from legged_robots.rl.errors import CheckpointError

META = "st_gym"


def checkpoint_state(agent: Agent, meta: dict[str, Any]) -> dict[str, Any]:
  """skrl's module dict plus the ``st_gym`` entry (library, version, then meta)."""
  state: dict[str, Any] = {
    name: module.state_dict() for name, module in agent.checkpoint_modules.items() if module is not None
  }
  state[META] = {"library": "skrl", "skrl_version": skrl.__version__, **meta}
  return state


def save_checkpoint(agent: Agent, path: Path, meta: dict[str, Any]) -> None:
  atomic_torch_save(checkpoint_state(agent, meta), path)


def read_skrl_checkpoint(path: Path) -> dict[str, Any]:
  """Load on CPU; raise CheckpointError if truncated, from st_rl, or not from this runner."""
  data = load_torch_file(path)
  if isinstance(data, dict) and "actor_state_dict" in data:
    raise CheckpointError(
      f"{path} is an st_rl (rsl_rl) checkpoint, not an skrl one: play or resume it with "
      "scripts/st_rl/play.py / train.py, or pick a run of scripts/skrl/train.py."
    )
  if not isinstance(data, dict) or data.get(META, {}).get("library") != "skrl":
    raise CheckpointError(
      f"{path} is not a checkpoint of scripts/skrl/train.py (no '{META}' entry naming skrl). "
      "Pass a model_<iter>.pt of an skrl run."
    )
  return data


def check_checkpoint_fits(
  path: Path, data: dict[str, Any], agent: Agent, algorithm: str, sizes: dict[str, int]
) -> None:
  """Raise CheckpointError when data cannot be loaded into agent (algorithm, modules, sizes)."""
  meta = data[META]
  if meta.get("algorithm") != algorithm:
    raise CheckpointError(
      f"checkpoint {path} was trained with skrl {meta.get('algorithm')}, not {algorithm}: pass "
      f"--algorithm {meta.get('algorithm')} or a checkpoint of a {algorithm} run."
    )
  wanted = [name for name, module in agent.checkpoint_modules.items() if module is not None]
  missing = [name for name in wanted if name not in data]
  if missing:
    raise CheckpointError(
      f"checkpoint {path} lacks the skrl modules {missing} this agent needs (its config differs: "
      "preprocessors, shared models); resume with the agent config it was trained with."
    )
  saved = {k: int(meta[k]) for k in sizes if k in meta}
  if saved != sizes:
    raise CheckpointError(
      f"checkpoint {path} was trained with sizes {saved}, but this task has {sizes}. Pick a run of "
      "the same task (--task/--load_run), or the same observation overrides it was trained with."
    )


def load_into(agent: Agent, data: dict[str, Any], modules: tuple[str, ...] | None = None) -> None:
  """Load the checkpoint's modules (all of the agent's, or the named ones) into agent."""
  for name, module in agent.checkpoint_modules.items():
    if module is not None and (modules is None or name in modules):
      module.load_state_dict(data[name])
