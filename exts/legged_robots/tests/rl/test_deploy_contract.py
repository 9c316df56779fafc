"""The deployment contract: save/load, validation, and its import boundary."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from legged_robots.deploy import (
  ActionSpec,
  CommandSpec,
  ContractError,
  DeployContract,
  ObservationTerm,
  PolicySpec,
  RobotModel,
)


def _contract() -> DeployContract:
  return DeployContract(
    task="Flat-Test",
    robot=RobotModel("robot", "bot", "/x/bot.xml", "pkg.mod:get_spec"),
    joint_names=["a", "b"],
    default_joint_pos=[0.1, -0.2],
    stiffness=[40.0, 20.0],
    damping=[2.0, 1.0],
    effort_limit=[88.0, float("inf")],
    action=ActionSpec("joint_pos", [0.5, 0.25], [0.1, -0.2], None),
    physics_dt=0.005,
    decimation=4,
    step_dt=0.02,
    observations=[
      ObservationTerm("base_ang_vel", 3, "m:f", {"sensor_name": "imu"}, scale=0.25),
      ObservationTerm("joint_pos", 4, "m:g", {}, clip=[-1.0, 1.0], history_length=2),
    ],
    commands=[CommandSpec("twist", "m:VelCfg", {"lin_vel_x": [-1.0, 1.0]})],
    policy=PolicySpec("policy.onnx", ["obs"], ["actions"], obs_dim=7, action_dim=2),
  )


def test_save_load_round_trip(tmp_path):
  c = _contract()
  c.save(tmp_path / "deploy.yaml")
  back = DeployContract.load(tmp_path / "deploy.yaml")
  assert back == c
  raw = yaml.safe_load((tmp_path / "deploy.yaml").read_text())
  assert raw["schema_version"] == 1 and raw["joint_names"] == ["a", "b"]


@pytest.mark.parametrize(
  ("edit", "message"),
  [
    (lambda d: d["stiffness"].append(1.0), "stiffness has 3 entries but joint_names has 2"),
    (lambda d: d["observations"][0].update(size=4), "sum to 8 but policy.obs_dim=7"),
    (lambda d: d.update(schema_version=99), "schema_version 99"),
    (lambda d: d.update(step_dt=0.01), "step_dt=0.01"),
    (lambda d: d.update(colour="red"), "unknown keys \\['colour'\\]"),
    (lambda d: d["policy"].pop("obs_dim"), "policy: missing keys \\['obs_dim'\\]"),
    (lambda d: d["commands"][0].update(adds="motion"), "adds names 'motion', which is no command"),
  ],
)
def test_invalid_contracts_name_the_problem(tmp_path, edit, message):
  data = _contract().to_dict()
  edit(data)
  path = tmp_path / "deploy.yaml"
  path.write_text(yaml.safe_dump(data))
  with pytest.raises(ContractError, match=message):
    DeployContract.load(path)


def test_deploy_package_does_not_import_the_training_stack():
  code = (
    "import sys, legged_robots.deploy as d; "
    "bad = [m for m in ('torch', 'warp', 'mjlab', 'mujoco_warp') if m in sys.modules]; "
    "print(bad); sys.exit(1 if bad else 0)"
  )
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
  assert result.returncode == 0, result.stdout + result.stderr
