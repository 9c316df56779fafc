"""Read the deployment contract off a built mjlab env (the only place that knows both)."""

from __future__ import annotations

import dataclasses
import enum
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
import torch
from mjlab.entity import Entity
from mjlab.envs import ManagerBasedRlEnv
from mjlab.envs.mdp.actions import JointPositionAction

from legged_robots.deploy import (
  ActionSpec,
  CommandSpec,
  DeployContract,
  ObservationTerm,
  PolicySpec,
  RobotModel,
)
from legged_robots.rl.errors import StRlError

POLICY_GROUP = "actor"


def plain(value: Any) -> Any:
  """Convert a config value to YAML-safe data (callables become ``module:qualname``)."""
  if isinstance(value, torch.Tensor):
    return value.detach().cpu().tolist()
  if isinstance(value, np.ndarray):
    return value.tolist()
  if isinstance(value, np.generic):
    return value.item()
  if dataclasses.is_dataclass(value) and not isinstance(value, type):
    return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
  if isinstance(value, dict):
    return {str(k): plain(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [plain(v) for v in value]
  if isinstance(value, slice):
    return None if value == slice(None) else [value.start, value.stop, value.step]
  if isinstance(value, enum.Enum):
    return value.value
  if callable(value):
    return f"{value.__module__}:{value.__qualname__}"
  return value


def _joint_action(env: ManagerBasedRlEnv) -> tuple[str, JointPositionAction]:
  terms = env.action_manager.active_terms
  if len(terms) != 1 or not isinstance(env.action_manager.get_term(terms[0]), JointPositionAction):
    raise StRlError(
      f"cannot export a deployment contract: action terms {terms} are not a single "
      "joint position term (the contract describes PD joint-position policies)."
    )
  term = env.action_manager.get_term(terms[0])
  assert isinstance(term, JointPositionAction)
  return terms[0], term


def _per_joint(value: torch.Tensor | float, n: int) -> list[float]:
  if isinstance(value, torch.Tensor):
    return [float(v) for v in value[0].cpu().tolist()]
  return [float(value)] * n


def _pd_gains(env: ManagerBasedRlEnv, entity_name: str, joint_names: list[str]):
  """kp, kd, effort limit per joint from the compiled model's position actuators.

  A MuJoCo position actuator computes force = kp*ctrl - kp*q - kd*qd, i.e.
  gainprm[0] = kp, biasprm[1] = -kp, biasprm[2] = -kd.
  """
  model = env.sim.mj_model
  entity = env.scene[entity_name]
  ctrl_of_joint = {a.target.split("/")[-1]: a.id for a in entity.spec.actuators}
  kp, kd, limit = [], [], []
  for name in joint_names:
    if name not in ctrl_of_joint:
      raise StRlError(f"joint {name} has no actuator: cannot export PD gains")
    ctrl = ctrl_of_joint[name]
    gain, bias = model.actuator_gainprm[ctrl], model.actuator_biasprm[ctrl]
    if not np.isclose(gain[0], -bias[1]) or gain[0] <= 0:
      raise StRlError(
        f"actuator of joint {name} is not a position actuator (gain {gain[0]}, "
        f"bias {bias[1]}): the contract only describes PD position control."
      )
    kp.append(float(gain[0]))
    kd.append(float(-bias[2]))
    limited = model.actuator_forcelimited[ctrl]
    limit.append(float(model.actuator_forcerange[ctrl][1]) if limited else math.inf)
  return kp, kd, limit


def _robot_model(env: ManagerBasedRlEnv, entity_name: str) -> RobotModel:
  spec = env.scene[entity_name].spec
  spec_fn = plain(env.cfg.scene.entities[entity_name].spec_fn)
  model_dir = Path(spec.modelfiledir) if spec.modelfiledir else None
  # The spec keeps its folder but not its file name: find the MJCF declaring the model.
  matches = []
  if model_dir is not None and model_dir.is_dir():
    for xml in sorted(model_dir.glob("*.xml")):
      try:
        if ET.parse(xml).getroot().get("model") == spec.modelname:
          matches.append(xml)
      except ET.ParseError:
        continue
  mjcf = str(matches[0]) if len(matches) == 1 else None
  return RobotModel(entity_name, spec.modelname, mjcf, spec_fn)


def robot_mjcf(env: ManagerBasedRlEnv, entity_name: str) -> str:
  """The trained robot as a standalone MJCF, with the training env's physics options.

  The scene holds the entity's spec attached by reference (it cannot be compiled or saved
  alone), so the entity is rebuilt from its cfg: same spec_fn, collision settings,
  actuators, armature and keyframe. Visual-only mesh geoms and the meshes they use are
  dropped; collision geoms are primitives and bodies carry explicit inertials, so the
  dynamics do not change (checked in tests/deploy/test_robot_export.py).
  """
  spec = Entity(env.cfg.scene.entities[entity_name]).spec
  for geom in list(spec.geoms):
    if geom.type == mujoco.mjtGeom.mjGEOM_MESH and geom.contype == 0 and geom.conaffinity == 0:
      spec.delete(geom)
  used = {g.meshname for g in spec.geoms if g.type == mujoco.mjtGeom.mjGEOM_MESH}
  for mesh in list(spec.meshes):
    if mesh.name not in used:
      spec.delete(mesh)
  opt = env.sim.mj_model.opt
  for name in dir(spec.option):
    if not name.startswith("_"):
      setattr(spec.option, name, getattr(opt, name))
  return spec.to_xml()


def _observation_terms(env: ManagerBasedRlEnv) -> list[ObservationTerm]:
  manager = env.observation_manager
  terms = []
  names = manager.active_terms[POLICY_GROUP]
  dims = manager.group_obs_term_dim[POLICY_GROUP]
  for name, dim in zip(names, dims, strict=True):
    cfg = manager.get_term_cfg(POLICY_GROUP, name)
    terms.append(
      ObservationTerm(
        name=name,
        size=int(np.prod(dim)),
        func=plain(cfg.func),
        params=plain(cfg.params),
        scale=plain(cfg.scale),
        clip=None if cfg.clip is None else [float(c) for c in cfg.clip],
        history_length=int(cfg.history_length),
        flatten_history_dim=bool(cfg.flatten_history_dim),
      )
    )
  return terms


def _commands(env: ManagerBasedRlEnv) -> list[CommandSpec]:
  specs = []
  for name in env.command_manager.active_terms:
    cfg = env.cfg.commands[name]
    ranges = getattr(cfg, "ranges", None)
    plain_ranges = {}
    if dataclasses.is_dataclass(ranges):
      for f in dataclasses.fields(ranges):
        value = getattr(ranges, f.name)
        if isinstance(value, (tuple, list)):
          plain_ranges[f.name] = [float(v) for v in value]
    specs.append(CommandSpec(name, plain(type(cfg)), plain_ranges))
  return specs


def build_contract(
  env: ManagerBasedRlEnv, task_id: str, policy: PolicySpec, clip_actions: float | None = None
) -> DeployContract:
  """Describe env's policy interface; policy gives the ONNX file and its signature;
  clip_actions is the rsl_rl wrapper's clamp on raw actions (agent.clip_actions)."""
  term_name, action = _joint_action(env)
  joint_names = list(action.target_names)
  n = len(joint_names)
  entity_name = action.cfg.entity_name
  entity = env.scene[entity_name]
  kp, kd, limit = _pd_gains(env, entity_name, joint_names)
  default_pos = entity.data.default_joint_pos[0, action.target_ids].cpu().tolist()
  clip = None
  if action.cfg.clip is not None:
    clip = action._clip[0].cpu().tolist()  # resolved per joint by mjlab
  contract = DeployContract(
    task=task_id,
    robot=_robot_model(env, entity_name),
    joint_names=joint_names,
    default_joint_pos=[float(v) for v in default_pos],
    stiffness=kp,
    damping=kd,
    effort_limit=limit,
    action=ActionSpec(
      term_name,
      _per_joint(action.scale, n),
      _per_joint(action.offset, n),
      clip,
      None if clip_actions is None else float(clip_actions),
    ),
    physics_dt=float(env.physics_dt),
    decimation=int(env.cfg.decimation),
    step_dt=float(env.step_dt),
    observations=_observation_terms(env),
    commands=_commands(env),
    policy=policy,
  )
  contract.validate()
  return contract
