"""Terms that need a real simulation: action latency, restitution, root reset, device ids."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from mjlab.envs import ManagerBasedRlEnv
from mjlab.envs import mdp as mjlab_mdp
from mjlab.utils.lab_api.math import quat_mul
from torch.profiler import ProfilerActivity, profile

from legged_robots.tasks import load_env_cfg, mdp
from legged_robots.tasks.mdp import events


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


POSE = {
  "x": (0.1, 0.1),
  "y": (-0.2, -0.2),
  "z": (0.03, 0.03),
  "roll": (0.3, 0.3),
  "pitch": (-0.2, -0.2),
  "yaw": (2.5, 2.5),
}
VEL = {
  "x": (0.4, 0.4),
  "y": (-0.1, -0.1),
  "z": (0.05, 0.05),
  "roll": (0.2, 0.2),
  "pitch": (0.1, 0.1),
  "yaw": (-0.3, -0.3),
}


def _root_state(env) -> torch.Tensor:
  robot = env.scene["robot"]
  qpos = env.sim.data.qpos[:, robot.indexing.free_joint_q_adr]
  return torch.cat([qpos, env.sim.data.qvel[:, robot.indexing.free_joint_v_adr]], dim=1).clone()


def _scramble_root(env) -> None:
  state = torch.randn(env.num_envs, 13)
  state[:, 3:7] = torch.nn.functional.normalize(state[:, 3:7], dim=-1)
  env.scene["robot"].write_root_state_to_sim(state)


def test_reset_root_state_matches_mjlab_for_fixed_offsets(g1_env):
  ids = torch.tensor([0, 1])
  _scramble_root(g1_env)
  mjlab_mdp.reset_root_state_uniform(g1_env, ids, pose_range=POSE, velocity_range=VEL)
  expected = _root_state(g1_env)
  params = {"pose_range": POSE, "velocity_range": VEL}
  term = mdp.reset_root_state_uniform(SimpleNamespace(params=params), g1_env)
  _scramble_root(g1_env)
  term(g1_env, ids, **params)
  torch.testing.assert_close(_root_state(g1_env), expected)


def test_reset_root_state_quaternion_product_matches_mjlab():
  q, p = torch.nn.functional.normalize(
    torch.randn(2, 50, 4, generator=torch.Generator().manual_seed(0)), dim=-1
  )
  via_matrix = torch.stack([events._left_mul_matrix(a) @ b for a, b in zip(q, p, strict=True)])
  torch.testing.assert_close(via_matrix, quat_mul(q, p))


def test_reset_root_state_rejects_unknown_range_keys(g1_env):
  params = {"pose_range": {"x": (0.0, 1.0), "heading": (0.0, 1.0)}}
  with pytest.raises(ValueError, match=r"unknown keys \['heading'\]"):
    mdp.reset_root_state_uniform(SimpleNamespace(params=params), g1_env)


def test_g1_joint_deviation_equals_the_former_five_group_penalties(g1_env):
  robot = g1_env.scene["robot"]
  q = robot.data.default_joint_pos + torch.randn(
    2, robot.num_joints, generator=torch.Generator().manual_seed(1)
  )
  robot.write_joint_state_to_sim(q, torch.zeros_like(q))
  groups = [
    (-0.1, (r".*_hip_yaw_joint", r".*_hip_roll_joint")),
    (-0.05, (r".*_ankle_roll_joint",)),
    (-0.1, (r".*_shoulder_.*_joint", r".*_elbow_joint")),
    (-0.1, (r"waist_.*_joint",)),
    (-0.1, (r".*_wrist_.*_joint",)),
  ]
  deviation = (q - robot.data.default_joint_pos).abs()
  expected = sum(weight * deviation[:, robot.find_joints(names)[0]].sum(dim=1) for weight, names in groups)
  term_cfg = g1_env.reward_manager.get_term_cfg("joint_deviation")
  value = term_cfg.func(g1_env, **term_cfg.params) * term_cfg.weight
  torch.testing.assert_close(value, expected)
