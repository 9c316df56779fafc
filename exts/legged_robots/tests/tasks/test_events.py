"""Event terms on a fake entity: impulse timing by hand and against mjlab's own term."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from mjlab.envs.mdp.events import apply_body_impulse as mjlab_apply_body_impulse
from torch.profiler import ProfilerActivity, profile

from legged_robots.tasks.mdp import events

from .fakes import asset_cfg

DT = 0.25  # Exact in binary: timers hit 0 exactly.


class _Body:
  """An entity with one body that records the external wrench written to it."""

  num_bodies = 1

  def __init__(self, num_envs: int) -> None:
    self.wrench = torch.zeros(num_envs, 1, 6)

  def write_external_wrench_to_sim(self, forces, torques, env_ids=None, body_ids=None):
    rows = range(self.wrench.shape[0]) if env_ids is None else env_ids.tolist()
    for i, env in enumerate(rows):
      self.wrench[env, body_ids, :3] = forces[i]
      self.wrench[env, body_ids, 3:] = torques[i]


def _impulse(term_cls, num_envs: int, **ranges):
  body = _Body(num_envs)
  env = SimpleNamespace(scene={"robot": body}, num_envs=num_envs, device="cpu", step_dt=DT)
  params = {"asset_cfg": asset_cfg(body_ids=[0]), **ranges}
  term = term_cls(SimpleNamespace(params=params), env)
  return term, env, params, body


FIXED = {
  "force_range": (2.0, 2.0),
  "torque_range": (-1.0, -1.0),
  "duration_s": (0.75, 0.75),
  "cooldown_s": (0.5, 0.5),
}


@pytest.mark.parametrize("term_cls", [events.apply_body_impulse, mjlab_apply_body_impulse])
def test_impulse_timing(term_cls):
  term, env, params, body = _impulse(term_cls, 2, **FIXED)
  on = []
  for step in range(8):
    term(env, None, **params)
    on.append([bool(body.wrench[e].any()) for e in range(2)])
    if step == 2:  # Env 1 resets in the middle of its first impulse.
      term.reset(torch.tensor([1]))
      assert not body.wrench[1].any()
  # Cooldown 0.5 s = 2 steps, then 0.75 s = 3 steps on; the cooldown restarts when the
  # impulse ends (and counts 1 step at once), a reset restarts it too.
  env0 = [0, 1, 1, 1, 0, 1, 1, 1]
  env1 = [0, 1, 1, 0, 1, 1, 1, 0]
  assert on == [[bool(a), bool(b)] for a, b in zip(env0, env1, strict=True)]
  wrench = body.wrench[0, 0]
  torch.testing.assert_close(wrench, torch.tensor([2.0, 2.0, 2.0, -1.0, -1.0, -1.0]))


def test_impulse_samples_each_component_in_its_range():
  ranges = {
    "force_range": (-5.0, 5.0),
    "torque_range": (-1.0, 1.0),
    "duration_s": (1.0, 2.0),
    "cooldown_s": (0.0, 0.0),
  }
  term, env, params, body = _impulse(events.apply_body_impulse, 2000, **ranges)
  term(env, None, **params)  # A zero cooldown starts every env's impulse at once.
  force, torque = body.wrench[:, 0, :3], body.wrench[:, 0, 3:]
  assert force.abs().max() <= 5.0 and torque.abs().max() <= 1.0
  assert force.std() > 2.0 and torque.std() > 0.4  # Uniform: std = half-width / sqrt(3).
  assert force.mean().abs() < 0.3


def test_impulse_step_never_syncs_with_the_device():
  term, env, params, _ = _impulse(events.apply_body_impulse, 64, **FIXED)
  with profile(activities=[ProfilerActivity.CPU]) as prof:
    for _ in range(6):
      term(env, None, **params)
  names = {e.name for e in prof.events()}
  assert not names & {"aten::nonzero", "aten::_local_scalar_dense", "aten::is_nonzero"}
