"""Terms that need a real simulation: action latency and restitution randomization."""

from __future__ import annotations

import pytest
import torch
from mjlab.envs import ManagerBasedRlEnv
from torch.profiler import ProfilerActivity, profile

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


@pytest.fixture(scope="module")
def g1_env():
  cfg = load_env_cfg("Flat-G1")
  cfg.scene.num_envs = 2
  env = ManagerBasedRlEnv(cfg, device="cpu")
  env.reset()
  yield env
  env.close()


def test_device_entity_cfg_keeps_partial_selections_as_device_tensors(g1_env):
  robot = g1_env.scene["robot"]
  legs = g1_env.reward_manager.get_term_cfg("dof_acc_l2").params["asset_cfg"]
  expected, _ = robot.find_joints((r".*_hip_.*_joint", r".*_knee_joint", r".*_ankle_.*_joint"))
  assert isinstance(legs.joint_ids, torch.Tensor) and legs.joint_ids.tolist() == expected
  everything = g1_env.reward_manager.get_term_cfg("energy_cost").params["asset_cfg"]
  assert everything.joint_ids == slice(None)


def test_reward_termination_and_step_events_never_sync_with_the_device(g1_env):
  # Everything between the physics steps and the first sync of mjlab's env step (the
  # interval events) must queue on the GPU without waiting, so it overlaps the physics.
  # A sync is an .item()/nonzero, or an index list or torch.tensor(list) copied to the GPU.
  g1_env.step(torch.zeros(2, g1_env.action_manager.total_action_dim))
  with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    g1_env.termination_manager.compute()
    g1_env.reward_manager.compute(dt=g1_env.step_dt)
    g1_env.event_manager.apply(mode="step", dt=g1_env.step_dt)
  syncs = [e.name for e in prof.events() if e.name in ("aten::nonzero", "aten::_local_scalar_dense")]
  from_lists = [e for e in prof.events() if e.name == "aten::lift_fresh" and e.input_shapes[0]]
  assert not syncs and not from_lists
