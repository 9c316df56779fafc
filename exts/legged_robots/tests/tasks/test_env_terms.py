"""Terms that need a real simulation: action latency and restitution randomization."""

from __future__ import annotations

import pytest
import torch
from mjlab.envs import ManagerBasedRlEnv

from legged_robots.tasks import load_env_cfg


@pytest.fixture(scope="module")
def go1_env():
  cfg = load_env_cfg("Flat-Go1")
  cfg.scene.num_envs = 3
  cfg.actions["joint_pos"].latency_steps = (2, 2)
  env = ManagerBasedRlEnv(cfg, device="cpu")
  yield env
  env.close()


def test_action_latency_applies_targets_two_steps_late(go1_env):
  term = go1_env.action_manager.get_term("joint_pos")
  term.reset()
  assert (term.latency == 2).all()
  a = [torch.full((3, 12), v) for v in (0.1, 0.2, 0.3, 0.4)]
  expected = lambda x: x * term.scale + term.offset  # noqa: E731
  # Right after reset the first command is held until the delay line has filled.
  for step, action in enumerate(a):
    term.process_actions(action)
    applied = a[max(step - 2, 0)]
    torch.testing.assert_close(term._processed_actions, expected(applied))
  # A reset env starts over: its first command applies at once, others keep their lag.
  term.reset(torch.tensor([1]))
  term.process_actions(torch.full((3, 12), 0.9))
  torch.testing.assert_close(term._processed_actions[1], expected(torch.full((12,), 0.9))[1])
  torch.testing.assert_close(term._processed_actions[0], expected(a[2])[0])


def test_restitution_randomizes_only_the_feet_dampratio(go1_env):
  model = go1_env.sim.model
  robot = go1_env.scene["robot"]
  foot_ids = [robot.indexing.geom_ids[i].item() for i in robot.find_geoms(".*_foot_collision")[0]]
  solref = torch.as_tensor(model.geom_solref)
  default = torch.as_tensor(go1_env.sim.get_default_field("geom_solref"))
  feet = solref[:, foot_ids, 1]
  assert ((feet >= 0.8) & (feet <= 1.0)).all()
  assert not torch.allclose(feet, default[foot_ids, 1].expand_as(feet))
  others = [g for g in range(solref.shape[1]) if g not in foot_ids]
  torch.testing.assert_close(solref[:, others], default[others].expand(3, -1, -1))
