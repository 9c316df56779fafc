"""Observation terms on hand-made states and model fields."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from legged_robots.tasks.mdp import observations as obs

from .fakes import asset_cfg, contact_sensor, fake_env, robot


def _env_with_model(num_envs: int, **fields) -> SimpleNamespace:
  asset = robot(root_link_pos_w=torch.zeros(num_envs, 3))
  asset.indexing = SimpleNamespace(
    body_ids=torch.tensor([1, 2, 3]), ctrl_ids=torch.tensor([0, 1]), geom_ids=torch.tensor([4, 5])
  )
  env = fake_env(robot=asset)
  env.num_envs = num_envs
  env.sim = SimpleNamespace(model=SimpleNamespace(**fields))
  return env


def test_base_height_relative_to_env_origin():
  env = fake_env(robot=robot(root_link_pos_w=torch.tensor([[1.0, 2.0, 0.8], [0.0, 0.0, 1.5]])))
  env.scene = _SceneWithOrigins(env.scene, torch.tensor([[0.0, 0.0, 0.1], [0.0, 0.0, 1.0]]))
  torch.testing.assert_close(obs.base_height(env, asset_cfg()), torch.tensor([[0.7], [0.5]]))


class _SceneWithOrigins(dict):
  def __init__(self, entities, origins):
    super().__init__(entities)
    self.env_origins = origins


def test_base_quat_has_nonnegative_w():
  q = torch.tensor([[-0.5, 0.5, -0.5, 0.5], [1.0, 0.0, 0.0, 0.0]])
  env = fake_env(robot=robot(root_link_quat_w=q))
  torch.testing.assert_close(
    obs.base_quat(env, asset_cfg()), torch.tensor([[0.5, -0.5, 0.5, -0.5], [1, 0, 0, 0.0]])
  )


def test_body_mass_broadcasts_unrandomized_field():
  env = _env_with_model(3, body_mass=torch.tensor([[0.0, 1.0, 2.0, 3.0]]))
  out = obs.body_mass(env, asset_cfg(body_ids=[0, 2]))
  torch.testing.assert_close(out, torch.tensor([[1.0, 3.0]] * 3))


def test_body_mass_reads_per_env_values():
  masses = torch.tensor([[0.0, 1.0, 2.0, 3.0], [0.0, 1.5, 2.5, 3.5]])
  env = _env_with_model(2, body_mass=masses)
  out = obs.body_mass(env, asset_cfg(body_ids=slice(None)))
  torch.testing.assert_close(out, masses[:, 1:4])


def test_joint_stiffness_damping_from_position_actuator_params():
  gain = torch.zeros(1, 3, 10)
  bias = torch.zeros(1, 3, 10)
  gain[0, :, 0] = torch.tensor([40.0, 60.0, 99.0])
  bias[0, :, 1] = -gain[0, :, 0]
  bias[0, :, 2] = torch.tensor([-2.0, -3.0, -9.0])
  env = _env_with_model(2, actuator_gainprm=gain, actuator_biasprm=bias)
  out = obs.joint_stiffness_damping(env, asset_cfg())
  torch.testing.assert_close(out, torch.tensor([[40.0, 60.0, 2.0, 3.0]] * 2))


def test_geom_friction_and_contact_forces():
  friction = torch.zeros(1, 6, 3)
  friction[0, 4:, 0] = torch.tensor([0.6, 0.9])
  env = _env_with_model(1, geom_friction=friction)
  torch.testing.assert_close(
    obs.geom_friction(env, asset_cfg(geom_ids=slice(None))), torch.tensor([[0.6, 0.9]])
  )
  env.scene["feet"] = contact_sensor(force=torch.tensor([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]))
  torch.testing.assert_close(obs.contact_forces(env, "feet"), torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]))
