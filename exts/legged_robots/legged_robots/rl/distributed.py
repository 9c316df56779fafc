"""Multi-process training under ``torchrun``: one process per GPU (or per CPU for tests).

torchrun sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; rsl_rl reads them and
all-reduces the PPO gradients. What st_gym adds:

- the process group on CPU too (gloo; rsl_rl knows only NCCL on ``cuda:<local_rank>``);
- per-rank seeds (``seed + rank``), so ranks do not simulate the same envs;
- ``sync_normalizers``: rsl_rl's empirical normalizers learn from each rank's own
  observations; after every update their statistics are pooled across ranks (equal
  batch per rank: mean = mean of means, var = mean of vars + variance of the means),
  so every rank holds the same policy, buffers included;
- ``parameter_checksum``: one number per rank that must agree (printed at the end).

Only rank 0 writes the run folder, logs, checkpoints and exports.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import nn

from legged_robots.rl.errors import StRlError
from legged_robots.rl.task_cfg import resolve_device

T = TypeVar("T")


@dataclass(frozen=True)
class Rank:
  rank: int = 0
  local_rank: int = 0
  world_size: int = 1

  @property
  def is_main(self) -> bool:
    return self.rank == 0


def rank_from_env() -> Rank:
  """The torchrun rank of this process (world size 1 without torchrun)."""
  return Rank(
    int(os.getenv("RANK", "0")), int(os.getenv("LOCAL_RANK", "0")), int(os.getenv("WORLD_SIZE", "1"))
  )


def launched_rank(distributed: bool, launch: str) -> Rank:
  """torchrun's rank with ``--distributed`` (StRlError naming ``launch`` when torchrun did not
  start this process), else a lone process."""
  if not distributed:
    return Rank()
  if "RANK" not in os.environ:
    raise StRlError(f"--distributed runs one process per GPU under torchrun: {launch}")
  return rank_from_env()


def device_for(rank: Rank, device: str | None) -> str:
  """cuda:<local_rank> when CUDA is there (or asked for), else cpu (gloo)."""
  if device is not None and device.startswith("cpu"):
    return "cpu"
  return f"cuda:{rank.local_rank}" if torch.cuda.is_available() else "cpu"


def init_process_group(rank: Rank, device: str) -> None:
  """NCCL on GPUs, gloo on CPU; a no-op when already initialized. The group is destroyed
  when the process exits: a rank that exits with it alive can abort in the backend's
  thread teardown ("terminate called without an active exception", seen once in CI on a
  2-rank skrl run that had finished training)."""
  if dist.is_initialized():
    return
  backend = "nccl" if device.startswith("cuda") else "gloo"
  if device.startswith("cuda"):
    torch.cuda.set_device(rank.local_rank)
  dist.init_process_group(backend=backend, rank=rank.rank, world_size=rank.world_size)
  atexit.register(_destroy_process_group)


def _destroy_process_group() -> None:
  if dist.is_initialized():
    dist.destroy_process_group()


def broadcast_object(value: T | None, rank: Rank) -> T:
  """Rank 0's value (not None) on every rank; the others pass None. Pickled: for small
  objects such as a decision."""
  box = [value]
  if rank.world_size > 1:
    dist.broadcast_object_list(box, src=0)
  assert box[0] is not None, "rank 0 broadcast None"
  return box[0]


def normalizers(*modules: nn.Module) -> list[nn.Module]:
  """Every module with rsl_rl's EmpiricalNormalization buffers (_mean, _var, _std)."""
  found = []
  for module in modules:
    found += [m for m in module.modules() if all(hasattr(m, b) for b in ("_mean", "_var", "_std"))]
  return found


def _buffer(module: nn.Module, name: str) -> torch.Tensor:
  value = getattr(module, name)
  assert isinstance(value, torch.Tensor)
  return value


@torch.no_grad()
def sync_running_stats(
  local_mean: torch.Tensor, local_var: torch.Tensor, world_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
  """Mean and variance over all ranks' samples from each rank's own (equal sample counts):
  mean = mean of the means, var = mean of the variances + variance of the means."""
  mean = local_mean.clone()
  dist.all_reduce(mean)
  mean /= world_size
  spread = (local_mean - mean).pow(2) + local_var
  dist.all_reduce(spread)
  return mean, spread / world_size


@torch.no_grad()
def sync_normalizers(modules: list[nn.Module], world_size: int) -> None:
  """Pool the running statistics of equal-count normalizers over the ranks (module docstring)."""
  for m in modules:
    mean, var = sync_running_stats(_buffer(m, "_mean"), _buffer(m, "_var"), world_size)
    # New tensors, not in-place copies: rsl_rl reassigns _std inside inference mode, which
    # makes it an inference tensor that cannot be written to here.
    m._mean, m._var, m._std = mean, var, torch.sqrt(var)


def run_device(rank: Rank, device: str | None, distributed: bool) -> str:
  """The training device: ``device_for`` the rank under torchrun, else the flag's (resolved)."""
  return device_for(rank, device) if distributed else resolve_device(device)


def report_rank(library: str, rank: Rank, *modules: nn.Module) -> None:
  """One line per rank; equal checksums mean the ranks ended with the same policy."""
  checksum = parameter_checksum(*modules)
  print(f"[{library}] rank {rank.rank}/{rank.world_size}: parameter checksum {checksum:.12e}", flush=True)


def parameter_checksum(*modules: nn.Module) -> float:
  """Sum of every parameter and buffer (float64): equal on ranks that are in sync."""
  total = torch.zeros((), dtype=torch.float64)
  for module in modules:
    for tensor in (*module.parameters(), *module.buffers()):
      total += tensor.detach().double().sum().cpu()
  return float(total)
