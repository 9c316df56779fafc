"""PolicyRuntime: observation terms, history, action law and PD by hand; every bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import yaml

from legged_robots.deploy import ContractError
from legged_robots.deploy.observations import SUPPORTED_FUNCS, quat_apply_inverse
from legged_robots.deploy.runtime import (
  DeployError,
  MissingFileError,
  NonFiniteActionError,
  PolicyMismatchError,
  PolicyRuntime,
  RobotState,
)

from .helpers import G1_POLICY, OBS, REPO, export_folder, linear_onnx, small_contract


def _quat_axis_angle(axis: str, angle: float) -> np.ndarray:
  q = np.zeros(4)
  q[0] = math.cos(angle / 2)
  q["xyz".index(axis) + 1] = math.sin(angle / 2)
  return q


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  w1, x1, y1, z1 = a
  w2, x2, y2, z2 = b
  return np.array(
    [
      w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
      w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
      w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
      w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ]
  )


def _state(n=2, **kw) -> RobotState:
  fields = dict(
    base_quat=np.array([1.0, 0.0, 0.0, 0.0]),
    base_ang_vel=np.zeros(3),
    base_lin_vel=np.zeros(3),
    joint_pos=np.zeros(n),
    joint_vel=np.zeros(n),
  )
  fields.update({k: np.asarray(v, dtype=float) for k, v in kw.items()})
  return RobotState(**fields)


@pytest.fixture
def runtime(tmp_path) -> PolicyRuntime:
  return PolicyRuntime(export_folder(tmp_path, small_contract()))


def test_projected_gravity_of_yaw_90_then_roll_30():
  # Body frame = Rz(90) Rx(30). g_b = Rx(30)^T Rz(90)^T (0,0,-1) = Rx(30)^T (0,0,-1) = (0, -sin30, -cos30).
  q = _quat_mul(_quat_axis_angle("z", math.pi / 2), _quat_axis_angle("x", math.pi / 6))
  np.testing.assert_allclose(quat_apply_inverse(q, np.array([0.0, 0.0, -1.0])), [0, -0.5, -math.sqrt(3) / 2])
  # A world x vector seen from a body yawed by +90 deg points along body -y, then rolled.
  np.testing.assert_allclose(quat_apply_inverse(q, np.array([1.0, 0.0, 0.0])), [0, -math.sqrt(3) / 2, 0.5])


def test_terms_by_hand(runtime):
  q = _quat_mul(_quat_axis_angle("z", math.pi / 2), _quat_axis_angle("x", math.pi / 6))
  runtime.set_command("twist", np.array([0.5, -0.1, 0.3]))
  runtime.last_action = np.array([0.7, -0.4])
  state = _state(base_quat=q, base_ang_vel=[0.1, 0.2, 0.3], joint_pos=[0.3, 0.2], joint_vel=[1.5, -2.0])
  terms = runtime.compute_terms(state)
  assert list(terms) == [
    "base_ang_vel",
    "projected_gravity",
    "joint_pos",
    "joint_vel",
    "actions",
    "velocity_commands",
  ]
  np.testing.assert_allclose(terms["base_ang_vel"], [0.1, 0.2, 0.3])
  np.testing.assert_allclose(terms["projected_gravity"], [0, -0.5, -math.sqrt(3) / 2], atol=1e-12)
  np.testing.assert_allclose(terms["joint_pos"], [0.3 - 0.1, 0.2 + 0.2])  # minus default pose
  np.testing.assert_allclose(terms["joint_vel"], [1.5, -2.0])
  np.testing.assert_allclose(terms["actions"], [0.7, -0.4])
  np.testing.assert_allclose(terms["velocity_commands"], [0.5, -0.1, 0.3])
  obs = runtime.observe(state)
  assert obs.dtype == np.float32 and obs.shape == (15,)
  np.testing.assert_allclose(obs, np.concatenate(list(terms.values())), rtol=1e-6)
  assert runtime.compute_terms(state).keys() == terms.keys()  # no side effects on a second call


def test_clip_then_scale(tmp_path):
  contract = small_contract(base_ang_vel={"clip": [-1.0, 1.0], "scale": [0.5, 2.0, 0.25]})
  runtime = PolicyRuntime(export_folder(tmp_path, contract))
  terms = runtime.compute_terms(_state(base_ang_vel=[3.0, -0.4, -5.0]))
  # clip first (3 -> 1, -5 -> -1), then scale; scale-then-clip would give [1, -0.8, -1].
  np.testing.assert_allclose(terms["base_ang_vel"], [0.5, -0.8, -0.25])


def test_history_is_oldest_first_and_backfilled_after_reset(tmp_path):
  contract = small_contract(joint_vel={"size": 6, "history_length": 3})
  contract.policy.obs_dim = 19
  runtime = PolicyRuntime(export_folder(tmp_path, contract))
  seen = []
  for v in (1.0, 2.0, 3.0, 4.0):
    obs = runtime.observe(_state(joint_vel=[v, -v]))
    seen.append(obs[8:14].tolist())  # joint_vel follows ang vel (3), gravity (3), joint_pos (2)
  assert seen == [
    [1, -1, 1, -1, 1, -1],
    [1, -1, 1, -1, 2, -2],
    [1, -1, 2, -2, 3, -3],
    [2, -2, 3, -3, 4, -4],
  ]
  runtime.set_command("twist", np.array([1.0, 0.0, 0.0]))
  runtime.last_action = np.ones(2)
  runtime.reset()
  obs = runtime.observe(_state(joint_vel=[9.0, 8.0]))
  assert obs[8:14].tolist() == [9, 8, 9, 8, 9, 8]
  assert obs[14:16].tolist() == [0, 0]  # last action zeroed
  assert obs[16:].tolist() == [1, 0, 0]  # commands kept


def test_joint_targets_and_pd_torques_by_hand(tmp_path, runtime):
  # q_ref = a * scale + offset: [1*0.5+0.1, -2*0.25-0.2]
  np.testing.assert_allclose(runtime.joint_targets(np.array([1.0, -2.0])), [0.6, -0.7])
  # tau = kp (q_ref - q) - kd qd = [40*0.1 - 2*1, 20*(-0.5) - 1*(-3)] = [2, -7] -> knee limit 5
  tau = runtime.pd_torques(np.array([0.6, -0.7]), np.array([0.5, -0.2]), np.array([1.0, -3.0]))
  np.testing.assert_allclose(tau, [2.0, -5.0])
  contract = small_contract()
  contract.action.clip = [[-0.2, 0.2], [-1.0, 1.0]]
  clipped = PolicyRuntime(export_folder(tmp_path / "clip", contract))
  # mjlab 1.6 clips the target after scale and offset: hip 0.6 -> 0.2, knee -0.7 stays.
  np.testing.assert_allclose(clipped.joint_targets(np.array([1.0, -2.0])), [0.2, -0.7])


def test_step_feeds_the_raw_action_back(tmp_path):
  weight = np.zeros((15, 2))
  weight[0, 0] = 1.0  # action 0 = ang vel x
  weight[11, 1] = 1.0  # action 1 = last action 1
  runtime = PolicyRuntime(export_folder(tmp_path, small_contract(), weight, np.array([0.0, 1.0])))
  state = _state(base_ang_vel=[0.5, 0.0, 0.0])
  q1 = runtime.step(state)
  np.testing.assert_allclose(runtime.last_action, [0.5, 1.0])
  np.testing.assert_allclose(q1, [0.5 * 0.5 + 0.1, 1.0 * 0.25 - 0.2])
  runtime.step(state)
  np.testing.assert_allclose(runtime.last_action, [0.5, 2.0], rtol=1e-6)


def test_raw_clip_clamps_the_policy_output_before_it_is_fed_back(tmp_path):
  # rsl_rl's clip_actions: the env (and its last-action observation) sees clamp(raw).
  weight = np.zeros((15, 2))
  weight[0, 0] = 1.0  # action 0 = ang vel x
  weight[11, 1] = 1.0  # action 1 = last action 1
  contract = small_contract()
  contract.action.raw_clip = 0.8
  folder = export_folder(tmp_path, contract, weight, np.array([0.0, 1.0]))
  assert yaml.safe_load((folder / "deploy.yaml").read_text())["action"]["raw_clip"] == 0.8
  runtime = PolicyRuntime(folder)
  state = _state(base_ang_vel=[2.0, 0.0, 0.0])
  q1 = runtime.step(state)  # raw [2.0, 1.0] -> [0.8, 0.8]
  np.testing.assert_allclose(runtime.last_action, [0.8, 0.8])
  np.testing.assert_allclose(q1, [0.8 * 0.5 + 0.1, 0.8 * 0.25 - 0.2])
  runtime.step(state)  # raw [2.0, 0.8 + 1.0] -> [0.8, 0.8]: the clamped action was fed back
  np.testing.assert_allclose(runtime.last_action, [0.8, 0.8])
  # Without the field the YAML has no raw_clip key (older readers load it) and nothing clamps.
  plain = export_folder(tmp_path / "plain", small_contract(), weight, np.array([0.0, 1.0]))
  assert "raw_clip" not in yaml.safe_load((plain / "deploy.yaml").read_text())["action"]
  unclamped = PolicyRuntime(plain)
  unclamped.step(state)
  np.testing.assert_allclose(unclamped.last_action, [2.0, 1.0])
  contract.action.raw_clip = -1.0
  with pytest.raises(ContractError, match=r"action.raw_clip=-1.0 must be positive"):
    contract.validate()


SHIPPED = sorted(p for p in (REPO / "policies").iterdir() if (p / "deploy.yaml").is_file())
# Mimic/tracking policies ship without their goal tables (goals.py strip): the clips are not ours.
STRIPPED = [p for p in SHIPPED if (p / "goals_source.yaml").is_file()]
VELOCITY = [p for p in SHIPPED if p not in STRIPPED]


def test_every_shipped_policy_is_found():
  assert G1_POLICY in VELOCITY and len(VELOCITY) >= 3
  assert {p.name for p in STRIPPED} == {"mimic_flat_g1_h200", "tracking_flat_g1_h200"}


@pytest.mark.parametrize("folder", STRIPPED, ids=lambda p: p.name)
def test_shipped_motion_policy_names_the_attach_command_for_its_goal_table(folder):
  from legged_robots.deploy.motion_goals import goal_tables

  c = PolicyRuntime(folder).contract
  assert "motion_goal" in [t.name for t in c.observations] and len(c.joint_names) == 29
  source = yaml.safe_load((folder / "goals_source.yaml").read_text())
  assert source["clips"] and source["tables"][0]["file"] == "motion_goals.npz"
  assert not (folder / "motion_goals.npz").exists()
  attach = rf"goals\.py attach {re.escape(str(folder))} --clips <path to G1_"
  with pytest.raises(MissingFileError, match=attach):
    goal_tables(folder, c)


@pytest.mark.parametrize("folder", VELOCITY, ids=lambda p: p.name)
def test_shipped_g1_policy_loads_and_steps(folder):
  runtime = PolicyRuntime(folder)
  c = runtime.contract
  assert (folder / c.robot.sim_mjcf).is_file()
  assert c.policy.obs_dim == 96 and len(c.joint_names) == 29
  runtime.set_command("base_velocity", np.array([0.5, 0.0, 0.0]))
  state = _state(29, joint_pos=c.default_joint_pos)
  q_ref = runtime.step(state)
  assert q_ref.shape == (29,) and np.all(np.isfinite(q_ref))
  assert np.abs(q_ref - np.asarray(c.default_joint_pos)).max() < 1.0
  with pytest.raises(DeployError, match=r"unknown command 'twist'.*\['base_velocity'\]"):
    runtime.set_command("twist", np.zeros(3))
  with pytest.raises(DeployError, match="takes 3 values"):
    runtime.set_command("base_velocity", np.zeros(2))
  with pytest.raises(DeployError, match=r"joint_pos has shape \(28,\)"):
    runtime.observe(_state(28))


def test_missing_files(tmp_path):
  with pytest.raises(MissingFileError, match=r"no deploy\.yaml"):
    PolicyRuntime(tmp_path)
  small_contract().save(tmp_path / "deploy.yaml")
  with pytest.raises(MissingFileError, match=r"policy\.onnx"):
    PolicyRuntime(tmp_path)


def test_onnx_signature_mismatches(tmp_path):
  contract = small_contract()
  folder = export_folder(tmp_path, contract)
  linear_onnx(folder / "policy.onnx", np.zeros((16, 2)), np.zeros(2))
  with pytest.raises(PolicyMismatchError, match=r"takes 16 observations .* sum to 15"):
    PolicyRuntime(folder)
  linear_onnx(folder / "policy.onnx", np.zeros((15, 3)), np.zeros(3))
  with pytest.raises(PolicyMismatchError, match=r"outputs 3 actions .* has 2 joints"):
    PolicyRuntime(folder)
  linear_onnx(folder / "policy.onnx", np.zeros((15, 2)), np.zeros(2), in_name="input")
  with pytest.raises(PolicyMismatchError, match=r"inputs \['input'\]"):
    PolicyRuntime(folder)


def test_unsupported_terms_and_params_are_errors(tmp_path):
  bad = {
    "foot_contact": (
      {"joint_vel": {"func": "legged_robots.tasks.mdp.observations:foot_contact"}},
      DeployError,
      r"'joint_vel' uses func 'legged_robots.tasks.mdp.observations:foot_contact'.*supported: \[",
    ),
    "biased": ({"joint_pos": {"params": {"biased": True}}}, DeployError, "biased=True"),
    "subset": (
      {"joint_pos": {"params": {"asset_cfg": {"name": "robot", "joint_names": ["hip"], "joint_ids": [0]}}}},
      DeployError,
      "joint subset",
    ),
    "other_entity": ({"base_ang_vel": {"params": {"asset_cfg": {"name": "box"}}}}, DeployError, "'box'"),
    "unknown_param": ({"base_ang_vel": {"params": {"sensor": "imu"}}}, DeployError, r"\['sensor'\]"),
    "size": ({"joint_vel": {"size": 3}, "actions": {"size": 1}}, PolicyMismatchError, "size 3 .* computes 2"),
  }
  for name, (overrides, error, pattern) in bad.items():
    contract = small_contract(**overrides)
    folder = export_folder(tmp_path / name, contract)
    with pytest.raises(error, match=pattern):
      PolicyRuntime(folder)
  assert f"{OBS}:height_scan" in SUPPORTED_FUNCS


def test_nan_action_is_an_error_and_keeps_the_last_action(tmp_path):
  bias = np.array([0.0, np.nan])
  runtime = PolicyRuntime(export_folder(tmp_path, small_contract(), np.zeros((15, 2)), bias))
  runtime.last_action = np.array([0.3, 0.3])
  with pytest.raises(NonFiniteActionError, match=r"NaN/inf for 1 joints \(\['knee'\]"):
    runtime.step(_state())
  np.testing.assert_allclose(runtime.last_action, [0.3, 0.3])


def test_height_scan_offset_and_misses(tmp_path):
  contract = small_contract()
  contract.observations.append(
    type(contract.observations[0])(
      "height_scan", 4, f"{OBS}:height_scan", {"sensor_name": "scan", "offset": 0.5}, scale=0.2, clip=[-1, 1]
    )
  )
  contract.policy.obs_dim += 4
  runtime = PolicyRuntime(export_folder(tmp_path, contract))
  terms = runtime.compute_terms(_state(height_scan=[0.5, 1.0, 8.0, 0.0]))
  np.testing.assert_allclose(terms["height_scan"], [0.0, 0.1, 0.2, -0.1])
  with pytest.raises(DeployError, match=r"needs RobotState\.height_scan"):
    runtime.compute_terms(_state())
  with pytest.raises(DeployError, match="missed rays"):
    runtime.compute_terms(_state(height_scan=[0.5, np.nan, 1.0, 1.0]))


class _Lstm(torch.nn.Module):
  def __init__(self):
    super().__init__()
    self.rnn = torch.nn.LSTM(15, 4)
    self.head = torch.nn.Linear(4, 2)

  def forward(self, obs, h_in, c_in):
    x, (h, c) = self.rnn(obs.unsqueeze(0), (h_in, c_in))
    return self.head(x.squeeze(0)), h, c


def test_recurrent_state_is_carried_and_reset(tmp_path):
  torch.manual_seed(0)
  net = _Lstm().eval()
  contract = small_contract()
  p = contract.policy
  p.input_names, p.output_names = ["obs", "h_in", "c_in"], ["actions", "h_out", "c_out"]
  p.recurrent, p.rnn_type, p.rnn_hidden_dim, p.rnn_num_layers = True, "lstm", 4, 1
  export_folder(tmp_path, contract)
  zeros = torch.zeros(1, 1, 4)
  torch.onnx.export(
    net, (torch.zeros(1, 15), zeros, zeros), str(tmp_path / "policy.onnx"), dynamo=False,
    input_names=p.input_names, output_names=p.output_names, opset_version=18,
  )  # fmt: skip
  runtime = PolicyRuntime(tmp_path)
  obs = np.linspace(-1, 1, 15).astype(np.float32)
  got = [runtime.infer(obs) for _ in range(3)]
  with torch.no_grad():
    expected, _ = net.rnn(torch.from_numpy(np.stack([obs] * 3)).unsqueeze(1))
    expected = net.head(expected.squeeze(1)).numpy()
  np.testing.assert_allclose(np.stack(got), expected, atol=1e-5)
  runtime.reset()
  np.testing.assert_allclose(runtime.infer(obs), expected[0], atol=1e-5)
  p.rnn_hidden_dim = 8
  with pytest.raises(PolicyMismatchError, match="state input h_in"):
    PolicyRuntime(tmp_path, contract)
