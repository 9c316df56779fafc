"""st_gym's exported layout (policy.onnx + joint_names.yaml + kp_kd.yaml) read back as our contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from legged_robots.deploy import DeployContract, DeployError, PolicyMismatchError, PolicyRuntime
from legged_robots.deploy.closed_loop import ClosedLoop
from legged_robots.deploy.stgym_layout import contract_from_stgym, is_stgym_layout

from .helpers import linear_onnx, to_stgym


@pytest.fixture
def stgym(g1_export, tmp_path) -> Path:
  folder = tmp_path / "stgym"
  robot_order = to_stgym(g1_export, folder)
  original = DeployContract.load(g1_export / "deploy.yaml").joint_names
  assert robot_order != original
  return folder


def test_contract_from_stgym_equals_the_original(g1_export, stgym):
  original = DeployContract.load(g1_export / "deploy.yaml")
  assert is_stgym_layout(stgym) and not is_stgym_layout(g1_export)
  built, notes = contract_from_stgym(stgym, g1_export / "robot.xml", obs_terms=_our_order(original))
  assert built.joint_names == original.joint_names
  assert built.stiffness == original.stiffness and built.damping == original.damping
  assert built.action.scale == original.action.scale
  # Default pose from robot.xml's init_state keyframe; torque limits from its actuators.
  np.testing.assert_allclose(built.default_joint_pos, original.default_joint_pos, atol=1e-6)
  np.testing.assert_allclose(built.action.offset, original.action.offset, atol=1e-6)
  np.testing.assert_allclose(built.effort_limit, original.effort_limit, rtol=1e-6)
  assert (built.physics_dt, built.decimation) == (original.physics_dt, original.decimation)
  assert [t.name for t in built.observations] == [t.name for t in original.observations]
  assert [t.func for t in built.observations] == [t.func for t in original.observations]
  assert notes == ["control period 0.02 s = MJCF timestep 0.005 s x --decimation 4"]


def _our_order(contract: DeployContract) -> str:
  """Our G1 tasks observe the command last; st_gym's default puts it third."""
  return ",".join(t.name for t in contract.observations)


def test_one_closed_loop_step_gives_the_same_targets(g1_export, stgym):
  original = DeployContract.load(g1_export / "deploy.yaml")
  built, _ = contract_from_stgym(stgym, g1_export / "robot.xml", obs_terms=_our_order(original))
  loops = [
    ClosedLoop(PolicyRuntime(g1_export), g1_export / "robot.xml"),
    ClosedLoop(PolicyRuntime(stgym, built), g1_export / "robot.xml"),
  ]
  for loop in loops:
    loop.step(np.array([0.5, 0.0, 0.0]))
  assert np.abs(loops[0].data.ctrl - loops[0].runtime.contract.default_joint_pos).max() > 1e-3
  np.testing.assert_allclose(loops[1].data.ctrl, loops[0].data.ctrl, atol=1e-5)
  # st_gym's default layout (command third) feeds this policy the wrong vector: targets differ.
  default, _ = contract_from_stgym(stgym, g1_export / "robot.xml")
  wrong = ClosedLoop(PolicyRuntime(stgym, default), g1_export / "robot.xml")
  wrong.step(np.array([0.5, 0.0, 0.0]))
  assert np.abs(wrong.data.ctrl - loops[0].data.ctrl).max() > 0.1


def test_stgym_bad_input(g1_export, stgym, tmp_path):
  xml = g1_export / "robot.xml"
  with pytest.raises(PolicyMismatchError, match=r"sum to 90 but policy\.onnx takes 96"):
    contract_from_stgym(stgym, xml, obs_terms="base_ang_vel,joint_pos,joint_vel,actions")
  with pytest.raises(DeployError, match="unknown observation term 'imu'"):
    contract_from_stgym(stgym, xml, obs_terms="imu")
  with pytest.raises(DeployError, match=r"no keyframe 'stand'; it has \['init_state'\]"):
    contract_from_stgym(stgym, xml, keyframe="stand")
  no_key = tmp_path / "no_key.xml"
  text = xml.read_text().replace('<size nkey="1"/>', "")
  no_key.write_text(text[: text.index("<keyframe>")] + text[text.index("</keyframe>") + len("</keyframe>") :])
  with pytest.raises(DeployError, match="no keyframe for the default pose"):
    contract_from_stgym(stgym, no_key)
  names = yaml.safe_load((stgym / "joint_names.yaml").read_text())
  names["robot_joint_names"] = names["robot_joint_names"][:-1]
  (stgym / "joint_names.yaml").write_text(yaml.safe_dump(names))
  with pytest.raises(DeployError, match="must be a permutation"):
    contract_from_stgym(stgym, xml)


def test_stgym_action_size_mismatch(g1_export, stgym):
  linear_onnx(stgym / "policy.onnx", np.zeros((96, 28)), np.zeros(28))
  with pytest.raises(PolicyMismatchError, match=r"outputs 28 actions but joint_names\.yaml has 29"):
    contract_from_stgym(stgym, g1_export / "robot.xml")
