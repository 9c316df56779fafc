"""The contract's robot in native MuJoCo (CPU): build the model, place it, read its state.

``build_sim`` turns an MJCF into the physics the policy was trained with: the MJCF's own
actuators are replaced by one position actuator per contract joint (kp, kd and
forcerange = +-effort_limit from deploy.yaml, i.e. a MuJoCo ``<position>`` actuator as
mjlab's BuiltinPositionActuator creates), timestep = physics_dt, implicitfast
integration, and a ground plane with MuJoCo's default contact parameters (as mjlab's flat
terrain) when the MJCF has none. Everything else (armature, collision settings, solver
iterations) comes from the MJCF, hence ``exported/robot.xml`` is the model to use.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from legged_robots.deploy.contract import DeployContract
from legged_robots.deploy.errors import DeployError, MissingFileError, PolicyMismatchError
from legged_robots.deploy.ghost import Ghost
from legged_robots.deploy.motion_goals import StartState
from legged_robots.deploy.observations import RobotState, quat_apply_inverse
from legged_robots.deploy.visual import VisualRobot

GROUND = "st_gym_ground"
_HINGE_OR_SLIDE = (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE)


@dataclass(frozen=True)
class ModelEdits:
  """Physical perturbations applied to the compiled model (1.0 / 0.0 = none)."""

  friction_scale: float = 1.0
  """Multiplies the sliding friction of every geom (the ground included)."""
  added_base_mass_kg: float = 0.0
  """Added to the root body's mass."""
  motor_strength: float = 1.0
  """Multiplies kp, kd and the torque limit of every actuator."""


@dataclass
class SimRobot:
  """A compiled model and where the contract's joints live in it."""

  model: mujoco.MjModel
  qpos_adr: np.ndarray
  """qpos index of each contract joint, contract order (actuator i drives joint i)."""
  dof_adr: np.ndarray
  root_body: int
  root_qpos_adr: int
  root_dof_adr: int
  ground_geom: int
  passive_joints: list[str]
  """MJCF hinge/slide joints the policy does not drive (they move freely)."""


def route_mujoco_warnings() -> None:
  """MuJoCo's default warning handler appends to MUJOCO_LOG.TXT in the working directory;
  send its warnings (e.g. "Nan, Inf or huge value in QACC") to stderr instead."""
  if mujoco.get_mju_user_warning() is None:
    mujoco.set_mju_user_warning(_warn)


def _warn(message: str) -> None:
  print(f"[mujoco] warning: {message.strip()}", file=sys.stderr, flush=True)


def _load_spec(path: Path) -> mujoco.MjSpec:
  route_mujoco_warnings()  # every native simulation of the deploy side starts here
  if not path.is_file():
    raise MissingFileError(f"MJCF {path} does not exist: pass the robot model with --mjcf PATH.")
  try:
    return mujoco.MjSpec.from_file(str(path))
  except Exception as e:  # MuJoCo raises ValueError with the parser's message
    raise DeployError(f"cannot load MJCF {path}: {e}") from e


def _replace_actuators(spec: mujoco.MjSpec, contract: DeployContract, path: Path) -> None:
  joints = {j.name: j for j in spec.joints if j.type in _HINGE_OR_SLIDE}
  missing = [name for name in contract.joint_names if name not in joints]
  if missing:
    raise PolicyMismatchError(
      f"{len(missing)} policy joints are not hinge/slide joints of {path.name}: {missing}; "
      "use the MJCF the policy was trained on (exported/robot.xml, or --mjcf)."
    )
  extra = sorted({a.target for a in spec.actuators} - set(contract.joint_names))
  if extra:
    raise PolicyMismatchError(
      f"{path.name} actuates {extra}, which the policy does not control: "
      "use the MJCF the policy was trained on (a model of the same robot and joint set)."
    )
  for actuator in list(spec.actuators):
    spec.delete(actuator)
  for i, name in enumerate(contract.joint_names):
    act = spec.add_actuator(name=f"st_gym_pd_{name}", target=name)
    act.trntype = mujoco.mjtTrn.mjTRN_JOINT
    act.gear = [1.0, 0, 0, 0, 0, 0]
    act.dyntype = mujoco.mjtDyn.mjDYN_NONE
    act.gaintype = mujoco.mjtGain.mjGAIN_FIXED
    act.biastype = mujoco.mjtBias.mjBIAS_AFFINE
    act.gainprm[0] = contract.stiffness[i]
    act.biasprm[0:3] = [0.0, -contract.stiffness[i], -contract.damping[i]]
    act.ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE  # targets may exceed joint limits, as in mjlab
    act.inheritrange = 0.0
    limit = contract.effort_limit[i]
    act.forcelimited = (
      mujoco.mjtLimited.mjLIMITED_TRUE if np.isfinite(limit) else mujoco.mjtLimited.mjLIMITED_FALSE
    )
    if np.isfinite(limit):
      act.forcerange = [-limit, limit]


def _ensure_ground(spec: mujoco.MjSpec) -> None:
  if any(g.type == mujoco.mjtGeom.mjGEOM_PLANE for g in spec.worldbody.geoms):
    return
  spec.add_texture(
    name=GROUND, type=mujoco.mjtTexture.mjTEXTURE_2D, builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
    rgb1=[0.2, 0.3, 0.4], rgb2=[0.1, 0.2, 0.3], width=300, height=300,
  )  # fmt: skip
  material = spec.add_material(name=GROUND, texrepeat=[4, 4], texuniform=True)
  material.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = GROUND
  spec.worldbody.add_geom(name=GROUND, type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 0.01], material=GROUND)
  spec.worldbody.add_light(
    name=GROUND, pos=[0, 0, 4], dir=[0, 0, -1], type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL
  )


def build_sim(path: str | Path, contract: DeployContract, edits: ModelEdits | None = None) -> SimRobot:
  """Compile the MJCF with the contract's actuators, ground and timestep; apply edits."""
  path = Path(path)
  spec = _load_spec(path)
  _replace_actuators(spec, contract, path)
  _ensure_ground(spec)
  spec.option.timestep = contract.physics_dt
  spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
  try:
    model = spec.compile()
  except Exception as e:
    raise DeployError(f"cannot compile {path} with the contract's actuators: {e}") from e
  free = [j for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE]
  if len(free) != 1:
    raise DeployError(
      f"{path.name} has {len(free)} free joints; a legged robot needs exactly one floating base"
    )
  ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n) for n in contract.joint_names]
  hinges = [model.joint(j).name for j in range(model.njnt) if model.jnt_type[j] in _HINGE_OR_SLIDE]
  passive = [name for name in hinges if name not in set(contract.joint_names)]
  robot = SimRobot(
    model=model,
    qpos_adr=model.jnt_qposadr[ids].copy(),
    dof_adr=model.jnt_dofadr[ids].copy(),
    root_body=int(model.jnt_bodyid[free[0]]),
    root_qpos_adr=int(model.jnt_qposadr[free[0]]),
    root_dof_adr=int(model.jnt_dofadr[free[0]]),
    ground_geom=_ground_geom(model),
    passive_joints=passive,
  )
  _apply_edits(robot, edits or ModelEdits())
  return robot


def _ground_geom(model: mujoco.MjModel) -> int:
  planes = [
    g
    for g in range(model.ngeom)
    if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_PLANE and model.geom_bodyid[g] == 0
  ]
  return planes[0]


def _apply_edits(robot: SimRobot, edits: ModelEdits) -> None:
  m = robot.model
  base_mass = m.body_mass[robot.root_body] + edits.added_base_mass_kg
  if edits.friction_scale <= 0 or edits.motor_strength <= 0 or base_mass <= 0:
    raise DeployError(f"invalid {edits}: friction and motor strength must be > 0 and the base mass positive")
  m.geom_friction[:, 0] *= edits.friction_scale
  m.body_mass[robot.root_body] = base_mass
  s = edits.motor_strength
  m.actuator_gainprm[:, 0] *= s
  m.actuator_biasprm[:, 1:3] *= s
  m.actuator_forcerange *= s


def reset_to_default(robot: SimRobot, data: mujoco.MjData, contract: DeployContract) -> float:
  """Default joint pose, upright, at x=y=0 with the lowest collision geom on the ground.

  The actuators hold the default pose until the first policy target. Returns the base
  height. Passive joints start at their qpos0.
  """
  m = robot.model
  mujoco.mj_resetData(m, data)
  r = robot.root_qpos_adr
  data.qpos[robot.qpos_adr] = contract.default_joint_pos
  data.qpos[r : r + 7] = [0, 0, 0, 1, 0, 0, 0]
  mujoco.mj_kinematics(m, data)
  robot_geoms = [
    g for g in range(m.ngeom) if m.geom_bodyid[g] != 0 and (m.geom_contype[g] or m.geom_conaffinity[g])
  ]
  if not robot_geoms:
    raise DeployError("the robot has no collision geoms: it cannot stand on the ground")
  lowest = min(mujoco.mj_geomDistance(m, data, g, robot.ground_geom, 10.0, None) for g in robot_geoms)
  data.qpos[r + 2] = -lowest
  data.ctrl[:] = contract.default_joint_pos
  mujoco.mj_forward(m, data)
  return float(data.qpos[r + 2])


def reset_to_start(robot: SimRobot, data: mujoco.MjData, start: StartState) -> float:
  """The start state of a full-state motion command (``motion_goals.StartState``), as
  training's reset writes it: root pose and velocity, joint positions and velocities; the
  actuators hold the start joint positions until the first policy target. Returns the
  base height."""
  m = robot.model
  mujoco.mj_resetData(m, data)
  r, v = robot.root_qpos_adr, robot.root_dof_adr
  data.qpos[r : r + 3] = start.root_pos
  data.qpos[r + 3 : r + 7] = start.root_quat
  data.qpos[robot.qpos_adr] = start.joint_pos
  data.qvel[v : v + 3] = start.root_lin_vel_w
  data.qvel[v + 3 : v + 6] = quat_apply_inverse(
    start.root_quat, start.root_ang_vel_w
  )  # free joint: body frame
  data.qvel[robot.dof_adr] = start.joint_vel
  data.ctrl[:] = start.joint_pos
  mujoco.mj_forward(m, data)
  return float(data.qpos[r + 2])


def read_state(robot: SimRobot, data: mujoco.MjData) -> RobotState:
  """RobotState from qpos/qvel (the free joint's angular velocity is already in the body frame)."""
  r, v = robot.root_qpos_adr, robot.root_dof_adr
  quat = data.qpos[r + 3 : r + 7].copy()
  return RobotState(
    base_quat=quat,
    base_ang_vel=data.qvel[v + 3 : v + 6].copy(),
    base_lin_vel=quat_apply_inverse(quat, data.qvel[v : v + 3]),
    joint_pos=data.qpos[robot.qpos_adr].copy(),
    joint_vel=data.qvel[robot.dof_adr].copy(),
  )


def base_height(robot: SimRobot, data: mujoco.MjData) -> float:
  return float(data.qpos[robot.root_qpos_adr + 2])


class TrackingRenderer:
  """Offscreen frames of the robot from a camera that follows its base."""

  def __init__(self, robot: SimRobot, width: int, height: int, visual_mjcf: Path | None = None):
    # robot.xml keeps only collision geoms (group 3): show them, unless the asset's meshes
    # are drawn in their place (deploy.visual).
    self._visual = None if visual_mjcf is None else VisualRobot(visual_mjcf, robot.model, _ensure_ground)
    model = robot.model if self._visual is None else self._visual.model
    self._renderer = mujoco.Renderer(model, height, width)
    self._option = mujoco.MjvOption()
    if model.nmesh == 0:
      self._option.geomgroup[3] = 1
    self._camera = mujoco.MjvCamera()
    self._camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING
    self._camera.trackbodyid = robot.root_body if self._visual is None else self._visual.root_body
    self._camera.distance, self._camera.elevation, self._camera.azimuth = 3.0, -15.0, 135.0

  def frame(self, data: mujoco.MjData, ghost: Ghost | None = None, t: float = 0.0) -> np.ndarray:
    """The robot, and the reference robot ``ghost`` at time t beside it when given."""
    shown = data if self._visual is None else self._visual.pose(data)
    self._renderer.update_scene(shown, self._camera, self._option)
    if ghost is not None:
      ghost.pose(t)
      ghost.add_to(self._renderer.scene, self._option)
    # Shadows and reflections cost 4x the frame time in a software (OSMesa) renderer.
    self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
    self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
    return self._renderer.render()

  def close(self) -> None:
    self._renderer.close()
