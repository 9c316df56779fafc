"""Small exported folders for deploy tests: a hand-written contract and an ONNX linear policy."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper, numpy_helper

from legged_robots.deploy import (
  ActionSpec,
  CommandSpec,
  DeployContract,
  ObservationTerm,
  PolicySpec,
  RobotModel,
)

OBS = "mjlab.envs.mdp.observations"
REPO = Path(__file__).resolve().parents[4]
G1_POLICY = REPO / "policies" / "flat_g1_h200"


def small_contract(**term_overrides) -> DeployContract:
  """Two joints; terms ang vel, gravity, joint pos/vel, last action, velocity command (15)."""
  terms = [
    ObservationTerm("base_ang_vel", 3, f"{OBS}:base_ang_vel"),
    ObservationTerm("projected_gravity", 3, f"{OBS}:projected_gravity"),
    ObservationTerm("joint_pos", 2, f"{OBS}:joint_pos_rel"),
    ObservationTerm("joint_vel", 2, f"{OBS}:joint_vel_rel"),
    ObservationTerm("actions", 2, f"{OBS}:last_action"),
    ObservationTerm("velocity_commands", 3, f"{OBS}:generated_commands", {"command_name": "twist"}),
  ]
  for i, term in enumerate(terms):
    for key, value in term_overrides.get(term.name, {}).items():
      setattr(terms[i], key, value)
  return DeployContract(
    task="Flat-Test",
    robot=RobotModel("robot", "bot", None, "pkg.mod:get_spec"),
    joint_names=["hip", "knee"],
    default_joint_pos=[0.1, -0.2],
    stiffness=[40.0, 20.0],
    damping=[2.0, 1.0],
    effort_limit=[10.0, 5.0],
    action=ActionSpec("joint_pos", [0.5, 0.25], [0.1, -0.2], None),
    physics_dt=0.005,
    decimation=4,
    step_dt=0.02,
    observations=terms,
    commands=[CommandSpec("twist", "m:VelCfg", {"lin_vel_x": [-1.0, 1.0]})],
    policy=PolicySpec("policy.onnx", ["obs"], ["actions"], obs_dim=sum(t.size for t in terms), action_dim=2),
  )


def linear_onnx(path: Path, weight: np.ndarray, bias: np.ndarray, in_name="obs", out_name="actions") -> None:
  """actions = obs @ weight + bias as an ONNX graph with batch 1."""
  n_in, n_out = weight.shape
  graph = helper.make_graph(
    [
      helper.make_node("MatMul", [in_name, "W"], ["xw"]),
      helper.make_node("Add", ["xw", "b"], [out_name]),
    ],
    "linear",
    [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, [1, n_in])],
    [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [1, n_out])],
    initializer=[
      numpy_helper.from_array(weight.astype(np.float32), "W"),
      numpy_helper.from_array(bias.astype(np.float32).reshape(1, n_out), "b"),
    ],
  )
  model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
  model.ir_version = 10
  onnx.checker.check_model(model)
  onnx.save(model, str(path))


def export_folder(folder: Path, contract: DeployContract, weight=None, bias=None) -> Path:
  """Write deploy.yaml and a linear policy.onnx (weights default to a fixed random draw)."""
  folder.mkdir(parents=True, exist_ok=True)
  rng = np.random.default_rng(0)
  n_in, n_out = contract.policy.obs_dim, contract.policy.action_dim
  weight = rng.normal(size=(n_in, n_out)) * 0.1 if weight is None else weight
  bias = np.zeros(n_out) if bias is None else bias
  contract.save(folder / "deploy.yaml")
  linear_onnx(folder / contract.policy.file, weight, bias)
  return folder


def to_stgym(export: Path, folder: Path, seed: int = 0) -> list[str]:
  """Write our export in st_gym's layout; the robot (motor) order is a permutation of the policy's."""
  contract = DeployContract.load(export / "deploy.yaml")
  folder.mkdir(parents=True)
  shutil.copy(export / "policy.onnx", folder / "policy.onnx")
  robot_order = [str(n) for n in np.random.default_rng(seed).permutation(contract.joint_names)]
  at = {name: i for i, name in enumerate(contract.joint_names)}
  (folder / "joint_names.yaml").write_text(
    yaml.safe_dump({"policy_joint_names": contract.joint_names, "robot_joint_names": robot_order})
  )
  gains = {
    "kps": [contract.stiffness[at[n]] for n in robot_order],
    "kds": [contract.damping[at[n]] for n in robot_order],
    "scales": [contract.action.scale[at[n]] for n in robot_order],
  }
  (folder / "kp_kd.yaml").write_text(yaml.safe_dump(gains))
  return robot_order


def nan_below_zero_vx_policy(path, vx_index: int) -> None:
  """actions = 0 * sqrt(vx command): zero while vx >= 0, NaN once vx < 0."""
  pick = np.zeros((96, 1), dtype=np.float32)
  pick[vx_index, 0] = 1.0
  graph = helper.make_graph(
    [
      helper.make_node("MatMul", ["obs", "pick"], ["vx"]),
      helper.make_node("Sqrt", ["vx"], ["root"]),
      helper.make_node("Mul", ["root", "zeros"], ["actions"]),
    ],
    "nan_policy",
    [helper.make_tensor_value_info("obs", TensorProto.FLOAT, [1, 96])],
    [helper.make_tensor_value_info("actions", TensorProto.FLOAT, [1, 29])],
    initializer=[
      numpy_helper.from_array(pick, "pick"),
      numpy_helper.from_array(np.zeros((1, 29), np.float32), "zeros"),
    ],
  )
  model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
  model.ir_version = 10
  onnx.save(model, str(path))
