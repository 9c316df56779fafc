"""The Isaac Lab package's pure-Python parts on the 3.11 CI: G1 constants and the contract writer.

Expectations are hand-computed from Unitree's motor data (mjlab's formulas) or read back with
st_gym's own contract reader and deploy runtime, which sim2mujoco and the ROS 2 node use.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
from legged_robots_isaaclab import contract, g1
from mjlab.asset_zoo.robots.unitree_g1.g1_constants import G1_XML

from legged_robots.deploy import DeployContract
from legged_robots.deploy.observations import build_term

IL_OBS = "isaaclab.envs.mdp.observations"


def test_g1_gains_are_mjlabs_constants():
  # 5020: 0.139e-4 * (3.5556 * 4.5)^2 + 0.017e-4 * 4.5^2 + 0.169e-4 = 3.6096e-3 kg m^2
  group = g1.G1_ACTUATORS["5020"]
  assert group.armature == pytest.approx(3.6096e-3, rel=1e-4)
  assert group.stiffness == pytest.approx(3.6096e-3 * (20 * math.pi) ** 2, rel=1e-4)  # 14.250
  assert group.damping == pytest.approx(4 * 3.6096e-3 * 20 * math.pi, rel=1e-4)  # 0.9072
  # knee (7520-22): 0.489e-4 * 22.5^2 + 0.109e-4 * 25 + 0.738e-4 = 0.025102; kp 99.098
  assert g1.G1_ACTUATORS["7520_22"].stiffness == pytest.approx(99.098, rel=1e-4)
  # ankle: two 5020 in parallel: effort 50 N m, kp 28.501 -> action scale 0.25 * 50 / 28.501
  assert g1.g1_action_scale()[".*_ankle_pitch_joint"] == pytest.approx(0.4386, rel=1e-3)
  assert g1.g1_velocity_limits()[".*_knee_joint"] == 20.0


def test_per_joint_needs_exactly_one_pattern():
  assert contract.per_joint(
    {".*_knee_joint": 2.0, "waist_.*": 1.0}, ["left_knee_joint", "waist_yaw"], "kp"
  ) == [
    2.0,
    1.0,
  ]
  with pytest.raises(contract.ContractValueError, match="left_hip matches 0 patterns"):
    contract.per_joint({".*_knee_joint": 2.0}, ["left_hip"], "kp")
  with pytest.raises(contract.ContractValueError, match="matches 2 patterns"):
    contract.per_joint({"left_.*": 1.0, ".*_knee": 2.0}, ["left_knee"], "kp")


def _contract(tmp_path, joints: list[str]):
  n = len(joints)
  observations = [
    contract.observation_entry("base_ang_vel", f"{IL_OBS}:base_ang_vel", 3, {}, None, None),
    contract.observation_entry("projected_gravity", f"{IL_OBS}:projected_gravity", 3, {}, None, None),
    contract.observation_entry(
      "joint_pos",
      f"{IL_OBS}:joint_pos_rel",
      n,
      {"asset_cfg": {"name": "robot", "joint_names": None}},
      None,
      None,
    ),
    contract.observation_entry("joint_vel", f"{IL_OBS}:joint_vel_rel", n, {}, None, None),
    contract.observation_entry("actions", f"{IL_OBS}:last_action", n, {}, None, None),
    contract.observation_entry(
      "velocity_commands", f"{IL_OBS}:generated_commands", 3, {"command_name": "base_velocity"}, None, None
    ),
  ]
  data = contract.contract_dict(
    task="Isaac-Flat-G1-StGym",
    mjcf_path=str(G1_XML),
    model_name="g1",
    joint_names=joints,
    default_pos=[0.1] * n,
    stiffness=[40.0] * n,
    damping=[2.0] * n,
    effort_limit=[88.0] * n,
    action_term="joint_pos",
    action_scale=[0.5] * n,
    raw_clip=None,
    physics_dt=0.005,
    decimation=4,
    observations=observations,
    commands=[("base_velocity", "isaaclab.envs.mdp:UniformVelocityCommandCfg", {"lin_vel_x": (-0.5, 1.0)})],
    action_dim=n,
  )
  return DeployContract.load(contract.write_contract(data, tmp_path))


def test_contract_reads_back_with_st_gyms_reader_and_runtime_terms(tmp_path):
  joints = ["left_knee_joint", "right_knee_joint"]
  loaded = _contract(tmp_path, joints)
  assert loaded.policy.obs_dim == 3 + 3 + 2 + 2 + 2 + 3
  assert loaded.step_dt == pytest.approx(0.02)
  assert loaded.action.offset == [0.1, 0.1] and loaded.action.raw_clip is None
  assert loaded.robot.sim_mjcf == "robot.xml"
  assert loaded.commands[0].ranges == {"lin_vel_x": [-0.5, 1.0]}
  sizes = [build_term(term, loaded).frame_size for term in loaded.observations]  # the runtime knows each term
  assert sizes == [3, 3, 2, 2, 2, 3]


def test_unknown_observation_is_an_error():
  with pytest.raises(contract.ContractValueError, match="base_pos_z"):
    contract.observation_entry("base_height", f"{IL_OBS}:base_pos_z", 1, {}, None, None)


def test_height_scan_needs_offset_and_clip_and_marks_misses():
  with pytest.raises(contract.ContractValueError, match="explicit offset"):
    contract.observation_entry(
      "height_scan", f"{IL_OBS}:height_scan", 187, {"sensor_name": "s"}, 0.2, (-1.0, 1.0)
    )
  with pytest.raises(contract.ContractValueError, match="clip"):
    contract.observation_entry("height_scan", f"{IL_OBS}:height_scan", 187, {"offset": 0.0}, 0.2, None)
  entry = contract.observation_entry(
    "height_scan", f"{IL_OBS}:height_scan", 187, {"sensor_name": "s", "offset": 0.0}, 0.2, (-1.0, 1.0)
  )
  assert entry["func"] == "mjlab.envs.mdp.observations:height_scan"
  assert entry["params"] == {"sensor_name": "s", "offset": 0.0, "miss_value": -1.0}
  assert (entry["scale"], entry["clip"]) == (0.2, [-1.0, 1.0])


def test_robot_mjcf_is_mjlabs_g1_with_the_training_actuation():
  joints = [
    mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j)
    for model in [mujoco.MjModel.from_xml_path(str(G1_XML))]
    for j in range(1, model.njnt)
  ]
  n = len(joints)
  kp = [float(10 + i) for i in range(n)]
  init = [0.01 * i for i in range(n)]
  xml = contract.robot_mjcf(G1_XML, joints, kp, [1.0] * n, [25.0] * n, [0.004] * n, 0.76, init, 0.005)
  model = mujoco.MjModel.from_xml_string(xml)
  reference = mujoco.MjModel.from_xml_path(str(G1_XML))
  assert n == 29 and model.nu == 29
  np.testing.assert_allclose(model.body_mass, reference.body_mass)  # visual meshes had no mass
  assert not np.any(model.geom_type == mujoco.mjtGeom.mjGEOM_MESH)
  knee = model.actuator("left_knee_joint").id
  assert model.actuator_gainprm[knee, 0] == kp[joints.index("left_knee_joint")]
  assert list(model.actuator_forcerange[knee]) == [-25.0, 25.0]
  assert model.dof_armature[model.joint("left_knee_joint").dofadr[0]] == pytest.approx(0.004)
  foot = model.geom("left_foot1_collision").id
  assert (model.geom_condim[foot], model.geom_priority[foot], model.geom_contype[foot]) == (3, 1, 0)
  assert model.geom_friction[foot, 0] == pytest.approx(0.6)
  assert model.opt.timestep == 0.005 and model.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST
  key = model.key("init_state")
  assert key.qpos[2] == 0.76
  assert key.qpos[model.jnt_qposadr[model.joint(joints[3]).id]] == pytest.approx(init[3])
