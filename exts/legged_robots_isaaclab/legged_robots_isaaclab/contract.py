"""st_gym's deployment contract (``deploy.yaml`` + ``robot.xml``) from plain values.

Pure Python (numpy, yaml, mujoco): no Isaac Lab, no torch, so it runs and is tested on the
Python 3.11 CI as well (``tests/test_isaaclab_contract.py``, loaded back with st_gym's own reader
``legged_robots.deploy.DeployContract``). ``legged_robots_isaaclab.export`` reads the values off
a built Isaac Lab env; the schema is docs/deploy_contract.md (version 1).

Observation terms are written under the func names of st_gym's deploy runtime
(``legged_robots/deploy/observations.py``, keyed on mjlab's term names): Isaac Lab's terms of
the same name compute the same quantity (root-link angular velocity in the base frame, gravity
direction in the base frame, joint position minus default, joint velocity minus the zero
default, the raw last action, the command), so the runtime rebuilds them unchanged. A term
without an entry in ``OBS_FUNCS`` is an error, never passed through.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import mujoco
import yaml

SCHEMA_VERSION = 1
ONNX_NAME = "policy.onnx"
CONTRACT_NAME = "deploy.yaml"
ROBOT_MJCF_NAME = "robot.xml"
G1_SPEC_FN = "mjlab.asset_zoo.robots.unitree_g1.g1_constants:get_spec"
"""The function that builds mjlab's G1 MjSpec from the same g1.xml (for the 3.11 side)."""

_IL_OBS = "isaaclab.envs.mdp.observations"
_MJLAB_OBS = "mjlab.envs.mdp.observations"
OBS_FUNCS: dict[str, str] = {
  f"{_IL_OBS}:{name}": f"{_MJLAB_OBS}:{name}"
  for name in (
    "base_ang_vel",
    "base_lin_vel",
    "projected_gravity",
    "joint_pos_rel",
    "joint_vel_rel",
    "last_action",
    "generated_commands",
    "height_scan",
  )
}
"""Isaac Lab observation func -> the deploy runtime's name for the same quantity."""
HEIGHT_SCAN_MISS = -1.0
"""Newton's ray caster writes a missed hit as inf (newton_raycast_sensor.py), i.e. -inf before the clip at -1:
any miss value <= -1 gives the same observation, so misses are written as -1."""


class ContractValueError(ValueError):
  """A value cannot be expressed in the contract; the message names it and the fix."""


def per_joint(patterns: Mapping[str, float], joint_names: Sequence[str], what: str) -> list[float]:
  """The value of each joint from ``pattern -> value`` (full regex match, exactly one pattern per joint)."""
  values = []
  for joint in joint_names:
    hits = [value for pattern, value in patterns.items() if re.fullmatch(pattern, joint)]
    if len(hits) != 1:
      raise ContractValueError(f"{what}: joint {joint} matches {len(hits)} patterns of {sorted(patterns)}")
    values.append(float(hits[0]))
  return values


def observation_entry(
  name: str, func: str, size: int, params: Mapping[str, Any], scale, clip
) -> dict[str, Any]:
  """One ``observations`` entry, the func translated through ``OBS_FUNCS``."""
  params = dict(params)
  if func == f"{_IL_OBS}:height_scan":
    if clip is None or clip[0] > HEIGHT_SCAN_MISS or "offset" not in params:
      raise ContractValueError(
        f"observation term '{name}': a height scan needs an explicit offset and a clip at or below "
        f"{HEIGHT_SCAN_MISS} (missed rays), got params {params} and clip {clip}"
      )
    params["miss_value"] = HEIGHT_SCAN_MISS
  if func not in OBS_FUNCS:
    raise ContractValueError(
      f"observation term '{name}' uses {func}, which st_gym's deploy runtime cannot rebuild "
      f"(known: {sorted(OBS_FUNCS)}): drop it from the policy group or extend OBS_FUNCS and the runtime."
    )
  return {
    "name": name,
    "size": int(size),
    "func": OBS_FUNCS[func],
    "params": params,
    "scale": None if scale is None else float(scale),
    "clip": None if clip is None else [float(c) for c in clip],
    "history_length": 0,
    "flatten_history_dim": True,
  }


def contract_dict(
  *,
  task: str,
  mjcf_path: str,
  model_name: str,
  joint_names: Sequence[str],
  default_pos: Sequence[float],
  stiffness: Sequence[float],
  damping: Sequence[float],
  effort_limit: Sequence[float],
  action_term: str,
  action_scale: Sequence[float],
  raw_clip: float | None,
  physics_dt: float,
  decimation: int,
  observations: Sequence[dict[str, Any]],
  commands: Sequence[tuple[str, str, Mapping[str, tuple[float, float]]]],
  action_dim: int,
) -> dict[str, Any]:
  """deploy.yaml as plain data (schema version 1); the offset is the default pose (use_default_offset)."""
  floats = lambda xs: [float(x) for x in xs]  # noqa: E731
  action: dict[str, Any] = {
    "term": action_term,
    "scale": floats(action_scale),
    "offset": floats(default_pos),
    "clip": None,
  }
  if raw_clip is not None:
    action["raw_clip"] = float(raw_clip)
  return {
    "task": task,
    "robot": {
      "entity_name": "robot",
      "model_name": model_name,
      "mjcf_path": mjcf_path,
      "spec_fn": G1_SPEC_FN,
      "sim_mjcf": ROBOT_MJCF_NAME,
    },
    "joint_names": list(joint_names),
    "default_joint_pos": floats(default_pos),
    "stiffness": floats(stiffness),
    "damping": floats(damping),
    "effort_limit": floats(effort_limit),
    "action": action,
    "physics_dt": float(physics_dt),
    "decimation": int(decimation),
    "step_dt": float(physics_dt) * int(decimation),
    "observations": list(observations),
    "commands": [
      {"name": name, "type": type_, "ranges": {k: floats(v) for k, v in ranges.items()}}
      for name, type_, ranges in commands
    ],
    "policy": {
      "file": ONNX_NAME,
      "input_names": ["obs"],
      "output_names": ["actions"],
      "obs_dim": sum(int(o["size"]) for o in observations),
      "action_dim": int(action_dim),
      "recurrent": False,
      "rnn_type": None,
      "rnn_hidden_dim": None,
      "rnn_num_layers": None,
    },
    "schema_version": SCHEMA_VERSION,
  }


def write_contract(data: Mapping[str, Any], folder: Path) -> Path:
  path = folder / CONTRACT_NAME
  path.write_text(yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=None))
  return path


# mjlab's G1 FULL_COLLISION_WITHOUT_SELF (the Isaac Lab G1 trains with self_collision=False):
# every *_collision geom touches the ground (contype 0, conaffinity 1), not the robot itself;
# feet condim 3, priority 1, friction 0.6, other geoms condim 1.
_FOOT_GEOM = re.compile(r"^(left|right)_foot[1-7]_collision$")


def robot_mjcf(
  g1_xml: Path,
  joint_names: Sequence[str],
  stiffness: Sequence[float],
  damping: Sequence[float],
  effort_limit: Sequence[float],
  armature: Sequence[float],
  init_height: float,
  init_pos: Sequence[float],
  physics_dt: float,
) -> str:
  """The trained G1 as a standalone MJCF (docs/deploy_contract.md, ``robot.xml``).

  mjlab's g1.xml with the training actuation and solver: one position actuator per joint
  (kp, kd, forcerange +-effort), joint armature, ground-only collisions (as trained), the init pose
  as keyframe ``init_state``, timestep / implicitfast / 10+20 iterations / pyramidal cone;
  visual-only meshes dropped (collision geoms are primitives with explicit inertials).
  """
  spec = mujoco.MjSpec.from_file(str(g1_xml))
  for geom in list(spec.geoms):
    if geom.type == mujoco.mjtGeom.mjGEOM_MESH and geom.contype == 0 and geom.conaffinity == 0:
      spec.delete(geom)
  for mesh in list(spec.meshes):
    spec.delete(mesh)
  for geom in spec.geoms:
    if geom.name.endswith("_collision"):
      foot = bool(_FOOT_GEOM.match(geom.name))
      geom.contype, geom.conaffinity = 0, 1
      geom.condim = 3 if foot else 1
      geom.priority = 1 if foot else 0
      if foot:
        geom.friction[0] = 0.6
  for actuator in list(spec.actuators):
    spec.delete(actuator)
  for i, name in enumerate(joint_names):
    spec.joint(name).armature = float(armature[i])
    act = spec.add_actuator(name=name, target=name)
    act.trntype = mujoco.mjtTrn.mjTRN_JOINT
    act.gaintype = mujoco.mjtGain.mjGAIN_FIXED
    act.biastype = mujoco.mjtBias.mjBIAS_AFFINE
    act.gainprm[0] = float(stiffness[i])
    act.biasprm[0:3] = [0.0, -float(stiffness[i]), -float(damping[i])]
    if math.isfinite(effort_limit[i]):
      act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
      act.forcerange = [-float(effort_limit[i]), float(effort_limit[i])]
  spec.option.timestep = physics_dt
  spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
  spec.option.iterations = 10
  spec.option.ls_iterations = 20
  spec.option.cone = mujoco.mjtCone.mjCONE_PYRAMIDAL
  model = spec.compile()
  qpos = model.qpos0.copy()
  qpos[2] = init_height
  for name, q in zip(joint_names, init_pos, strict=True):
    qpos[model.jnt_qposadr[model.joint(name).id]] = q
  key = spec.add_key(name="init_state")
  key.qpos = qpos.tolist()
  key.ctrl = [float(q) for q in init_pos]
  return spec.to_xml()
