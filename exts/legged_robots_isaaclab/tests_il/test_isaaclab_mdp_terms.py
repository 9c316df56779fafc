# Isaac Lab 3 needs Python 3.12; the 3.11 dev venv cannot hold it, so pyright cannot see it.
# pyright: reportMissingImports=false
"""st_gym's terms on Isaac Lab's API (legged_robots_isaaclab.mdp) against hand-computed values.

The env is a stand-in holding only what each term reads (``.torch`` views like Isaac Lab 3's
ProxyArray), so each test drives one term with chosen numbers.
"""

from __future__ import annotations

import math
import types

import pytest
import torch
from isaaclab.managers import CurriculumTermCfg, RewardTermCfg, SceneEntityCfg
from legged_robots_isaaclab import mdp


def ns(**fields) -> types.SimpleNamespace:
  return types.SimpleNamespace(**fields)


class _Scene(dict):
  """``env.scene``: entities by name, sensors in ``.sensors``."""

  def __init__(self, entities=None, sensors=None):
    super().__init__(entities or {})
    self.sensors = sensors or {}


class _Proxy:
  def __init__(self, value: torch.Tensor):
    self.torch = value


def _entity(name: str, **ids) -> SceneEntityCfg:
  cfg = SceneEntityCfg(name)
  for key, value in ids.items():
    setattr(cfg, key, value)
  return cfg


def _yaw_quat_xyzw(yaw: float) -> list[float]:
  return [0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]  # Isaac Lab 3 stores x, y, z, w


def test_feet_parallel_is_exp_of_the_squared_yaw_difference():
  quats = torch.tensor([[_yaw_quat_xyzw(0.3), _yaw_quat_xyzw(-0.1)]])
  env = ns(scene={"robot": ns(data=ns(body_link_quat_w=_Proxy(quats)))})
  value = mdp.feet_parallel(env, 0.25, _entity("robot", body_ids=[0, 1]))
  assert value.item() == pytest.approx(math.exp(-(0.4**2) / 0.25**2), rel=1e-5)


def _contact_env(forces):
  return ns(scene=_Scene(sensors={"cs": ns(data=ns(net_forces_w=_Proxy(torch.tensor([forces]))))}))


def test_feet_stumble_and_contact_force_excess():
  # foot 0: horizontal 3 vs 5 * 0.5 vertical -> stumble; foot 1: 4 < 5 * 0.9
  env, feet = _contact_env([[3.0, 0.0, 0.5], [0.0, 4.0, 0.9]]), _entity("cs", body_ids=[0, 1])
  assert mdp.feet_stumble(env, feet).item() == 1.0
  assert mdp.feet_stumble(_contact_env([[2.0, 0.0, 0.5], [0.0, 4.0, 0.9]]), feet).item() == 0.0
  expected = (math.hypot(3.0, 0.5) - 3.0) + (math.hypot(4.0, 0.9) - 3.0)
  assert mdp.contact_forces_excess(env, feet, 3.0).item() == pytest.approx(expected, rel=1e-5)


def test_electrical_power_cost_counts_positive_power_only():
  data = ns(
    applied_torque=_Proxy(torch.tensor([[2.0, -3.0, 1.0]])),
    joint_vel=_Proxy(torch.tensor([[1.0, 1.0, -2.0]])),
  )
  env = ns(scene={"robot": ns(data=data)})
  assert mdp.electrical_power_cost(env, _entity("robot", joint_ids=slice(None))).item() == 2.0  # 2*1 only


def test_action_acc_l2_keeps_the_action_two_steps_back():
  manager = ns(action=torch.zeros(1, 2), prev_action=torch.zeros(1, 2))
  env = ns(action_manager=manager, num_envs=1, device="cpu")
  term = mdp.action_acc_l2(RewardTermCfg(func=mdp.action_acc_l2, weight=1.0), env)
  values = []
  for prev, action in ((0.0, 1.0), (1.0, 3.0), (3.0, 4.0)):
    manager.prev_action, manager.action = torch.full((1, 2), prev), torch.full((1, 2), action)
    values.append(term(env).item())
  # a - 2 a_prev + a_prev_prev per dim: 1 - 0 + 0, 3 - 2 + 0, 4 - 6 + 1 -> squared, summed over 2 dims
  assert values == [2.0, 2.0, 2.0]


def test_joint_excess_l1_per_pattern_limits():
  robot = ns(joint_names=["a_joint", "b_joint"], data=ns(joint_vel=_Proxy(torch.tensor([[10.0, -40.0]]))))
  env = ns(scene={"robot": robot}, device="cpu", num_envs=1)
  params = {"quantity": "joint_vel", "limits": {"a_.*": 20.0, "b_.*": 37.0}, "soft_ratio": 0.9}
  term = mdp.joint_excess_l1(RewardTermCfg(func=mdp.joint_excess_l1, weight=1.0, params=params), env)
  assert term(env, **params).item() == pytest.approx(40.0 - 0.9 * 37.0, rel=1e-5)  # a: 10 < 18
  with pytest.raises(ValueError, match="b_joint"):
    mdp.joint_excess_l1(
      RewardTermCfg(
        func=mdp.joint_excess_l1, weight=1.0, params={"quantity": "joint_vel", "limits": {"a_.*": 1.0}}
      ),
      env,
    )


def test_reward_weight_linear_interpolates_and_holds():
  reward = RewardTermCfg(func=None, weight=-0.005)
  env = ns(
    reward_manager=ns(
      active_terms=["action_rate_l2"], get_term_cfg=lambda _: reward, set_term_cfg=lambda *_: None
    ),
    common_step_counter=50,
    device="cpu",
    num_envs=1,
  )
  params = {"term_name": "action_rate_l2", "weight": -0.01, "num_steps": 100}
  term = mdp.reward_weight_linear(CurriculumTermCfg(func=mdp.reward_weight_linear, params=params), env)
  assert term(env, None, **params) == pytest.approx(-0.0075)
  env.common_step_counter = 500
  assert term(env, None, **params) == pytest.approx(-0.01) and reward.weight == pytest.approx(-0.01)


def test_base_height_is_measured_above_the_ground_under_the_robot():
  hits = torch.tensor([[[0.0, 0.0, -1.0], [0.0, 0.0, -1.2], [0.0, 0.0, float("inf")]], [[0.0, 0.0, 0.0]] * 3])
  roots = _Proxy(torch.tensor([[0.0, 0.0, -0.5], [0.0, 0.0, 0.3]]))
  env = ns(
    scene=_Scene({"robot": ns(data=ns(root_pos_w=roots))}, {"scan": ns(data=ns(ray_hits_w=_Proxy(hits)))})
  )
  # env 0: ground = median(-1.0, -1.2) = -1.2 (torch's lower median) -> 0.7 above: stands; env 1: 0.3 < 0.4
  done = mdp.root_height_above_terrain_below_minimum(env, 0.4, _entity("scan"))
  assert done.tolist() == [False, True]
