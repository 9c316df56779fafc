"""skrl under ``torchrun``: one process group for NCCL (GPUs) and gloo (CPU tests).

skrl 2.1 reads ``WORLD_SIZE``/``RANK``/``LOCAL_RANK`` when it is first imported and, with
more than one process, starts its own process group with NCCL only (and selects
``cuda:<local_rank>``), which cannot run on CPU. So the group is started here, by
``rl/distributed.py`` (NCCL on GPUs, gloo on CPU), skrl is imported with ``WORLD_SIZE``
hidden, and its configuration is then given this process's rank. From there skrl's own
machinery runs: parameters broadcast from rank 0 when an agent is built, gradients
all-reduced in every update (``Model.reduce_parameters``), the KL of the adaptive
learning rate all-reduced, TensorBoard writing off on ranks > 0.

What skrl does not do, ``sync_preprocessors`` adds: its ``RunningStandardScaler`` learns
from each rank's own observations; pooled across ranks after every update, all ranks
hold the same observation scaler (the exported policy folds rank 0's in).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import torch
from torch import nn

from legged_robots.rl.distributed import Rank, init_process_group, sync_running_stats
from legged_robots.rl.errors import StRlError

_SCALER_STATS = ("running_mean", "running_variance")


def import_skrl_for(rank: Rank, device: str) -> None:
  """Start the process group and import skrl configured for this rank (before any skrl import)."""
  if rank.world_size == 1:
    return
  if "skrl" in sys.modules:
    raise StRlError("skrl was imported before the process group was set up (rl/skrl/distributed.py)")
  init_process_group(rank, device)
  world_size = os.environ.pop("WORLD_SIZE")
  try:
    import skrl
  finally:
    os.environ["WORLD_SIZE"] = world_size
  torch_cfg = skrl.config.torch
  # skrl has no setter for these; its properties read the private fields.
  torch_cfg._rank, torch_cfg._local_rank = rank.rank, rank.local_rank
  torch_cfg._world_size, torch_cfg._is_distributed = rank.world_size, True
  torch_cfg.device = device


def scalers(*modules: Any) -> list[nn.Module]:
  """Every skrl RunningStandardScaler among modules (observation, state, value, AMP scalers)."""
  return [m for m in modules if isinstance(m, nn.Module) and all(hasattr(m, s) for s in _SCALER_STATS)]


@torch.no_grad()
def sync_preprocessors(modules: list[nn.Module], world_size: int) -> None:
  """Pool the scalers' statistics over the ranks (equal sample counts; rl/distributed.py)."""
  for m in modules:
    mean, var = sync_running_stats(m.running_mean, m.running_variance, world_size)  # pyright: ignore[reportArgumentType]
    m.running_mean.copy_(mean)  # pyright: ignore[reportCallIssue]
    m.running_variance.copy_(var)  # pyright: ignore[reportCallIssue]


def agent_modules(agent: Any) -> list[nn.Module]:
  """The models and scalers of an skrl agent (its checkpoint modules that are torch modules)."""
  return [m for m in agent.checkpoint_modules.values() if isinstance(m, nn.Module)]


def sync_after_updates(agent: Any, world_size: int) -> None:
  """Every update of agent (skrl PPO/AMP) ends with the same scalers on all ranks."""
  modules = scalers(*agent_modules(agent))
  update = agent.update

  def synced_update(*, timestep: int, timesteps: int) -> None:
    update(timestep=timestep, timesteps=timesteps)
    sync_preprocessors(modules, world_size)

  agent.update = synced_update
