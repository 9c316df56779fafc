"""Read an exported folder in st_gym's (Isaac Lab) layout as a DeployContract.

st_gym writes ``policy.onnx``, ``joint_names.yaml`` (``policy_joint_names``: the policy's
order, ``robot_joint_names``: the robot's motor order) and ``kp_kd.yaml`` (``kps``,
``kds``, ``scales``, lists in robot order). The rest of the contract comes from the robot
MJCF the user names: the default pose from a keyframe, torque limits from actuator
forcerange or joint actuatorfrcrange, the physics step from ``<option timestep>``; the
observation layout is a list of term names (``name`` or ``name*scale``) whose widths must
sum to the ONNX input size.
"""

from __future__ import annotations

import math
from pathlib import Path

import mujoco
import yaml

from legged_robots.deploy.contract import (
  ActionSpec,
  CommandSpec,
  DeployContract,
  ObservationTerm,
  PolicySpec,
  RobotModel,
)
from legged_robots.deploy.errors import DeployError, MissingFileError, PolicyMismatchError
from legged_robots.deploy.runtime import open_session

JOINT_NAMES_FILE = "joint_names.yaml"
GAINS_FILE = "kp_kd.yaml"
DEFAULT_OBS_TERMS = "base_ang_vel,projected_gravity,velocity_commands,joint_pos,joint_vel,actions"
COMMAND = "base_velocity"
_OBS = "mjlab.envs.mdp.observations"
# term name -> (func, width: "3" fixed or "n" = one per joint)
_TERMS: dict[str, tuple[str, str]] = {
  "base_ang_vel": ("base_ang_vel", "3"),
  "base_lin_vel": ("base_lin_vel", "3"),
  "projected_gravity": ("projected_gravity", "3"),
  "velocity_commands": ("generated_commands", "3"),
  "joint_pos": ("joint_pos_rel", "n"),
  "joint_vel": ("joint_vel_rel", "n"),
  "actions": ("last_action", "n"),
}


def is_stgym_layout(folder: Path) -> bool:
  """True for a folder with st_gym's files and no deploy.yaml."""
  return not (folder / "deploy.yaml").exists() and (folder / JOINT_NAMES_FILE).is_file()


def _read_yaml(path: Path, keys: tuple[str, ...]) -> dict[str, list]:
  if not path.is_file():
    raise MissingFileError(f"st_gym layout needs {path}")
  data = yaml.safe_load(path.read_text())
  missing = [k for k in keys if not isinstance(data, dict) or not isinstance(data.get(k), list)]
  if missing:
    raise DeployError(f"{path} must hold lists {list(keys)}; missing or not a list: {missing}")
  return data


def _observation_terms(spec: str, n: int) -> list[ObservationTerm]:
  terms = []
  for item in (s.strip() for s in spec.split(",") if s.strip()):
    name, _, scale = item.partition("*")
    if name not in _TERMS:
      raise DeployError(f"unknown observation term {name!r} in --obs-terms; known: {sorted(_TERMS)}")
    func, width = _TERMS[name]
    params = {"command_name": COMMAND} if func == "generated_commands" else {}
    size = 3 if width == "3" else n
    terms.append(ObservationTerm(name, size, f"{_OBS}:{func}", params, float(scale) if scale else None))
  return terms


def _effort_limits(model: mujoco.MjModel, joint_ids: list[int]) -> tuple[list[float], list[str]]:
  """Per joint: actuator forcerange, else joint actuatorfrcrange, else inf (reported)."""
  limits, unlimited = [], []
  for j in joint_ids:
    acts = [a for a in range(model.nu) if model.actuator_trnid[a, 0] == j and model.actuator_forcelimited[a]]
    if acts:
      limits.append(float(model.actuator_forcerange[acts[0], 1]))
    elif model.jnt_actfrclimited[j]:
      limits.append(float(model.jnt_actfrcrange[j, 1]))
    else:
      limits.append(math.inf)
      unlimited.append(model.joint(j).name)
  return limits, unlimited


def _default_pose(
  model: mujoco.MjModel, joint_ids: list[int], keyframe: str | None, mjcf: Path
) -> list[float]:
  names = [model.key(k).name for k in range(model.nkey)]
  if keyframe is None:
    if not names:
      raise DeployError(f"{mjcf} has no keyframe for the default pose: add one, or pass --keyframe NAME")
    key = 0
  elif keyframe in names:
    key = names.index(keyframe)
  else:
    raise DeployError(f"{mjcf} has no keyframe {keyframe!r}; it has {names}")
  return [float(model.key_qpos[key, model.jnt_qposadr[j]]) for j in joint_ids]


def contract_from_stgym(
  folder: Path,
  mjcf: Path,
  keyframe: str | None = None,
  decimation: int = 4,
  obs_terms: str = DEFAULT_OBS_TERMS,
) -> tuple[DeployContract, list[str]]:
  """Build the contract; also return notes the user should see (e.g. joints without torque limit)."""
  names = _read_yaml(folder / JOINT_NAMES_FILE, ("policy_joint_names", "robot_joint_names"))
  gains = _read_yaml(folder / GAINS_FILE, ("kps", "kds", "scales"))
  policy_order, robot_order = names["policy_joint_names"], names["robot_joint_names"]
  if sorted(policy_order) != sorted(robot_order) or len(set(robot_order)) != len(robot_order):
    raise DeployError(f"{JOINT_NAMES_FILE}: policy_joint_names must be a permutation of robot_joint_names")
  for key in ("kps", "kds", "scales"):
    if len(gains[key]) != len(robot_order):
      raise DeployError(
        f"{GAINS_FILE}: {key} has {len(gains[key])} entries, robot_joint_names has {len(robot_order)}"
      )
  to_policy = [robot_order.index(name) for name in policy_order]
  if not mjcf.is_file():
    raise MissingFileError(f"--mjcf {mjcf} does not exist (the st_gym layout needs the robot MJCF)")
  spec = mujoco.MjSpec.from_file(str(mjcf))
  model = spec.compile()
  joint_ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n) for n in policy_order]
  missing = [n for n, j in zip(policy_order, joint_ids, strict=True) if j < 0]
  if missing:
    raise PolicyMismatchError(
      f"joints {missing} of {JOINT_NAMES_FILE} are not in {mjcf}: pass the robot's MJCF"
    )
  onnx_path = folder / "policy.onnx"
  if not onnx_path.is_file():
    raise MissingFileError(f"st_gym layout needs {onnx_path}")
  session = open_session(onnx_path)
  inputs, outputs = session.get_inputs(), session.get_outputs()
  if len(inputs) != 1:
    raise DeployError(f"{onnx_path} has {len(inputs)} inputs; the st_gym layout reader supports MLP policies")
  obs_dim, action_dim = inputs[0].shape[-1], outputs[0].shape[-1]
  n = len(policy_order)
  if action_dim != n:
    raise PolicyMismatchError(
      f"{onnx_path.name} outputs {action_dim} actions but {JOINT_NAMES_FILE} has {n} joints"
    )
  terms = _observation_terms(obs_terms, n)
  if sum(t.size for t in terms) != obs_dim:
    raise PolicyMismatchError(
      f"observation terms {[f'{t.name}({t.size})' for t in terms]} sum to {sum(t.size for t in terms)} but "
      f"{onnx_path.name} takes {obs_dim} inputs: pass the policy's layout with --obs-terms."
    )
  default = _default_pose(model, joint_ids, keyframe, mjcf)
  limits, unlimited = _effort_limits(model, joint_ids)
  step = float(model.opt.timestep)
  contract = DeployContract(
    task=f"st_gym:{folder.resolve().parent.name}",
    robot=RobotModel("robot", spec.modelname, str(mjcf), "st_gym layout"),
    joint_names=list(policy_order),
    default_joint_pos=default,
    stiffness=[float(gains["kps"][i]) for i in to_policy],
    damping=[float(gains["kds"][i]) for i in to_policy],
    effort_limit=limits,
    action=ActionSpec("joint_pos", [float(gains["scales"][i]) for i in to_policy], list(default), None),
    physics_dt=step,
    decimation=decimation,
    step_dt=step * decimation,
    observations=terms,
    commands=[
      CommandSpec(COMMAND, "st_gym", {r: [-1.0, 1.0] for r in ("lin_vel_x", "lin_vel_y", "ang_vel_z")})
    ],
    policy=PolicySpec("policy.onnx", [inputs[0].name], [outputs[0].name], int(obs_dim), int(action_dim)),
  )
  contract.validate()
  notes = [f"control period {contract.step_dt:g} s = MJCF timestep {step:g} s x --decimation {decimation}"]
  if unlimited:
    notes.append(f"no torque limit in the MJCF for {unlimited}: their PD torque is unlimited")
  return contract, notes
