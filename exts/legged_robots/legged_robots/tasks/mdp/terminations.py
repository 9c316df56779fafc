"""Termination terms where st_gym has its own version of mjlab's."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv


def nan_detection(env: ManagerBasedRlEnv) -> torch.Tensor:
  """mjlab's ``nan_detection``: ``(envs,)`` True where qpos, qvel, qacc, qacc_warmstart or
  sensordata holds a NaN or Inf. The same mask in 15 tensor ops per step instead of 31:
  ``isfinite(x).all(-1)`` per array (one op for mjlab's ``isnan``/``isinf`` pair and two
  ``any``), and-ed, negated once."""
  data = env.sim.data
  finite = torch.isfinite(data.qpos).all(dim=-1)
  for array in (data.qvel, data.qacc, data.qacc_warmstart, data.sensordata):
    finite &= torch.isfinite(array).all(dim=-1)
  return ~finite
