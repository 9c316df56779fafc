"""exported/robot.xml is the trained robot: same bodies, joints, geoms and actuators as the env."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import mujoco
import numpy as np

from legged_robots.deploy import DeployContract

PREFIX = "robot/"  # the scene attaches the entity under this prefix
FIELDS = {
  mujoco.mjtObj.mjOBJ_BODY: (
    "body", ["body_mass", "body_inertia", "body_ipos", "body_iquat", "body_pos", "body_quat"]
  ),
  mujoco.mjtObj.mjOBJ_JOINT: ("joint", ["jnt_range", "jnt_stiffness", "jnt_pos", "jnt_axis"]),
  mujoco.mjtObj.mjOBJ_GEOM: (
    "geom",
    ["geom_size", "geom_pos", "geom_quat", "geom_friction", "geom_condim", "geom_priority", "geom_solref",
     "geom_solimp", "geom_solmix", "geom_margin", "geom_gap", "geom_contype", "geom_conaffinity"],
  ),
  mujoco.mjtObj.mjOBJ_ACTUATOR: ("actuator", ["actuator_gainprm", "actuator_biasprm", "actuator_forcerange"]),
}  # fmt: skip
DOF_FIELDS = ["dof_armature", "dof_frictionloss", "dof_damping"]


def _compare(exported: mujoco.MjModel, trained: mujoco.MjModel) -> dict[str, float]:
  """Worst relative difference per field, matching elements by name."""
  worst: dict[str, float] = {}

  def diff(field: str, a, b) -> None:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    rel = np.abs(x - y) / np.maximum(np.abs(y), 1e-3)
    worst[field] = max(worst.get(field, 0.0), float(rel.max()) if rel.size else 0.0)

  for obj, (kind, fields) in FIELDS.items():
    count = {"body": exported.nbody, "joint": exported.njnt, "geom": exported.ngeom, "actuator": exported.nu}[
      kind
    ]
    for i in range(1 if kind == "body" else 0, count):
      name = mujoco.mj_id2name(exported, obj, i)
      j = mujoco.mj_name2id(trained, obj, PREFIX + name)
      assert j >= 0, f"{kind} {name} of robot.xml is not in the training model"
      for field in fields:
        diff(field, getattr(exported, field)[i], getattr(trained, field)[j])
      if kind == "joint":
        for field in DOF_FIELDS:
          diff(
            field,
            getattr(exported, field)[exported.jnt_dofadr[i]],
            getattr(trained, field)[trained.jnt_dofadr[j]],
          )
  return worst


def test_robot_xml_has_the_trained_dynamics(flat_g1_env, g1_export):
  trained = flat_g1_env.sim.mj_model
  exported = mujoco.MjModel.from_xml_path(str(g1_export / "robot.xml"))
  robot_geoms = [g for g in range(trained.ngeom) if trained.geom(g).name.startswith(PREFIX)]
  robot_collision = [g for g in robot_geoms if trained.geom_contype[g] or trained.geom_conaffinity[g]]
  assert exported.nmesh == 0 and exported.ngeom == len(robot_collision)  # visual meshes gone, colliders kept
  assert exported.nbody == trained.nbody - 1  # all but the terrain body
  assert exported.nu == trained.nu == 29
  worst = _compare(exported, trained)
  # MJCF text keeps 6 significant digits: relative differences stay below 1e-5.
  assert max(worst.values()) < 1e-5, worst
  assert exported.opt.timestep == trained.opt.timestep and exported.opt.iterations == trained.opt.iterations
  assert exported.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST
  assert [exported.key(k).name for k in range(exported.nkey)] == ["init_state"]
  root = ET.parse(g1_export / "robot.xml").getroot()
  bodies = list(root.iter("body"))
  assert bodies and all(b.find("inertial") is not None for b in bodies)  # mass never came from geoms


def test_plain_asset_mjcf_is_not_the_trained_robot(flat_g1_env, g1_export):
  contract = DeployContract.load(g1_export / "deploy.yaml")
  assert contract.robot.sim_mjcf == "robot.xml"
  from mjlab.asset_zoo.robots.unitree_g1.g1_constants import G1_XML

  plain = mujoco.MjModel.from_xml_path(str(G1_XML))
  exported = mujoco.MjModel.from_xml_path(str(g1_export / "robot.xml"))
  assert plain.nu == 0 and exported.nu == 29
  assert np.allclose(plain.dof_armature, 0.0) and exported.dof_armature[6:].min() > 0.0
