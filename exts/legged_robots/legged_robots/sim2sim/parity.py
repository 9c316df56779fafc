"""Sim-to-sim parity: the training env and the deploy runtime, put in the same states.

``check_parity(env, folder)`` drives ``env`` (the task's play variant: no observation
noise, action latency 0, no domain randomization) with the exported ONNX policy. At each
sampled state (every env, every control step) it gives a ``PolicyRuntime`` built from the
exported folder the same robot state, command and previous action, and compares:

- each observation term: the env's actor term (this step) vs ``runtime.compute_terms``,
  and its block of the policy input (history included) vs ``runtime.observe``;
- each action: the env's action (ONNX on the env's own observation) vs ``runtime.step`` on
  the state, and vs the checkpoint's torch actor when one is given;
- each joint target, by joint name: the env's joint position target vs
  ``runtime.joint_targets`` of the same raw action;
- each joint's PD gains, by name: deploy.yaml kp, kd, effort limit vs what the env's
  actuators use (relative difference, since the simulator stores them in float32).

Mismatches go to ``causes.diagnose``, which tests the usual deployment mistakes.
"""

from __future__ import annotations

import inspect
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from mjlab.envs import ManagerBasedRlEnv, ManagerBasedRlEnvCfg
from mjlab.envs.mdp import observations as mjlab_obs
from mjlab.envs.mdp.actions import JointPositionAction
from mjlab.managers.scene_entity_config import SceneEntityCfg
from rsl_rl.models import MLPModel
from tensordict import TensorDict

from legged_robots.deploy import ContractError, DeployContract, DeployError, PolicyRuntime, RobotState
from legged_robots.deploy.runtime import load_contract
from legged_robots.rl.contract_builder import POLICY_GROUP, plain
from legged_robots.rl.errors import StRlError
from legged_robots.sim2sim.causes import diagnose, relative_gain_diffs
from legged_robots.sim2sim.data import EnvInterface, ParityReport, Samples, TermInfo
from legged_robots.tasks.mdp import DelayedJointPositionActionCfg

DEFAULT_TOL = 1e-5


class ParityInputError(StRlError):
  """The exported folder cannot be compared with the task (wrong task, sizes, joints)."""


def parity_env_cfg(cfg: ManagerBasedRlEnvCfg, num_envs: int, seed: int) -> ManagerBasedRlEnvCfg:
  """cfg (a task's play cfg) with what makes training and deploy differ on purpose turned off.

  Observation noise, action latency and domain randomization (startup events change the
  actuator gains and the model per env; pushes change the state mid-step) are training
  tools, not part of the contract; reset events stay, so states vary.
  """
  cfg.scene.num_envs = num_envs
  cfg.seed = seed
  cfg.observations[POLICY_GROUP].enable_corruption = False
  for action in cfg.actions.values():
    if isinstance(action, DelayedJointPositionActionCfg):
      action.latency_steps = (0, 0)
  cfg.events = {name: event for name, event in cfg.events.items() if event.mode == "reset"}
  return cfg


def _joint_action(env: ManagerBasedRlEnv) -> JointPositionAction:
  terms = env.action_manager.active_terms
  term = env.action_manager.get_term(terms[0])
  if len(terms) != 1 or not isinstance(term, JointPositionAction):
    raise ParityInputError(f"the parity check needs one joint position action term; the task has {terms}.")
  return term


def _per_action(value: torch.Tensor | float, n: int) -> np.ndarray:
  if isinstance(value, torch.Tensor):
    return value[0].cpu().numpy().astype(np.float64)
  return np.full(n, float(value))


def read_interface(env: ManagerBasedRlEnv) -> EnvInterface:
  """The training env's side of the policy interface, by joint name."""
  action = _joint_action(env)
  robot = env.scene[action.cfg.entity_name]
  joint_names = list(robot.joint_names)
  n = action.action_dim
  default = robot.data.default_joint_pos[0].cpu().numpy()
  kp, kd, limit = _actuator_gains(env, action.cfg.entity_name)
  manager = env.observation_manager
  terms = []
  for name, dim in zip(
    manager.active_terms[POLICY_GROUP], manager.group_obs_term_dim[POLICY_GROUP], strict=True
  ):
    cfg = manager.get_term_cfg(POLICY_GROUP, name)
    history = int(cfg.history_length)
    frame = int(np.prod(dim)) // max(history, 1)
    is_last_action = cfg.func is mjlab_obs.last_action
    columns = (
      list(action.target_names)
      if is_last_action
      else _joint_columns(cfg.func, cfg.params, joint_names, frame)
    )
    terms.append(TermInfo(name, frame, history, plain(cfg.scale), columns, is_last_action))
  return EnvInterface(
    action_names=list(action.target_names),
    action_scale=_per_action(action.scale, n),
    action_offset=_per_action(action.offset, n),
    default_joint_pos={j: float(default[i]) for i, j in enumerate(joint_names)},
    kp=kp,
    kd=kd,
    effort_limit=limit,
    physics_dt=float(env.physics_dt),
    decimation=int(env.cfg.decimation),
    terms=terms,
  )


def _joint_columns(func: Any, params: dict[str, Any], joint_names: list[str], frame: int) -> list[str] | None:
  """Joint of each column when the term reads the joints of an entity (its asset_cfg), else None."""
  asset = params.get("asset_cfg")
  if asset is None:
    parameter = inspect.signature(func).parameters.get("asset_cfg")
    asset = None if parameter is None else parameter.default
  if not isinstance(asset, SceneEntityCfg):
    return None
  ids = asset.joint_ids
  names = joint_names if isinstance(ids, slice) else [joint_names[i] for i in ids]
  return names if len(names) == frame else None


GainTable = dict[str, np.ndarray]


def _actuator_gains(env: ManagerBasedRlEnv, entity: str) -> tuple[GainTable, GainTable, GainTable]:
  """kp, kd, effort limit per joint name, one value per simulated world (as the sim uses them).

  A MuJoCo position actuator applies kp*ctrl - kp*q - kd*qd: kp = gainprm[0], kd = -biasprm[2].
  """
  robot = env.scene[entity]
  mj_model = env.sim.mj_model
  name_of_joint = {
    int(g): n for g, n in zip(robot.indexing.joint_ids.tolist(), robot.joint_names, strict=True)
  }
  gain = torch.as_tensor(env.sim.model.actuator_gainprm).cpu().numpy()
  bias = torch.as_tensor(env.sim.model.actuator_biasprm).cpu().numpy()
  force = torch.as_tensor(env.sim.model.actuator_forcerange).cpu().numpy()
  kp: GainTable = {}
  kd: GainTable = {}
  limit: GainTable = {}
  for ctrl in robot.indexing.ctrl_ids.tolist():
    joint = name_of_joint.get(int(mj_model.actuator_trnid[ctrl, 0]))
    if joint is None:
      continue
    kp[joint] = gain[:, ctrl, 0].astype(np.float64)
    kd[joint] = -bias[:, ctrl, 2].astype(np.float64)
    limited = bool(mj_model.actuator_forcelimited[ctrl])
    limit[joint] = force[:, ctrl, 1].astype(np.float64) if limited else np.array([math.inf])
  return kp, kd, limit


def _check_task(exported: str, task: str) -> None:
  if exported.removesuffix("-Play") != task.removesuffix("-Play"):
    raise ParityInputError(
      f"deploy.yaml was exported for task {exported}, not {task}: pass --task {exported}."
    )


def check_export_task(folder: Path, task: str) -> None:
  """The export's deploy.yaml and task, checked before an env is built (whose tables would
  otherwise print ahead of the error)."""
  try:
    contract = load_contract(Path(folder))
  except (DeployError, ContractError) as e:
    raise ParityInputError(str(e)) from e
  _check_task(contract.task, task)


def check_inputs(
  env: ManagerBasedRlEnv, contract: DeployContract, task: str, interface: EnvInterface
) -> None:
  """Raise ParityInputError when the export cannot be put next to this env at all."""
  _check_task(contract.task, task)
  missing = [j for j in contract.joint_names if j not in interface.default_joint_pos]
  if missing:
    raise ParityInputError(
      f"deploy.yaml joints {missing} are not joints of the task's robot "
      f"({len(interface.default_joint_pos)} joints): the export belongs to another robot."
    )
  no_gain = [j for j in contract.joint_names if j not in interface.kp]
  if no_gain:
    raise ParityInputError(f"joints {no_gain} have no actuator in the task's robot: cannot compare PD gains.")
  obs_dim = int(np.prod(env.observation_manager.group_obs_dim[POLICY_GROUP]))
  act_dim = int(env.action_manager.total_action_dim)
  if (contract.policy.obs_dim, contract.policy.action_dim) != (obs_dim, act_dim):
    raise ParityInputError(
      f"the exported policy maps {contract.policy.obs_dim} observations to {contract.policy.action_dim} "
      f"actions, the task's actor has {obs_dim} -> {act_dim}: export the policy from this task (and the "
      "run's observation overrides)."
    )
  unknown = [c.name for c in contract.commands if c.name not in env.command_manager.active_terms]
  if unknown:
    raise ParityInputError(f"deploy.yaml commands {unknown} are not commands of task {task}.")


def check_parity(
  env: ManagerBasedRlEnv,
  folder: Path,
  task: str,
  num_states: int = 200,
  tol: float = DEFAULT_TOL,
  actor: MLPModel | None = None,
  seed: int = 0,
  clip_actions: float | None = None,
) -> ParityReport:
  """Roll ``env`` out with the exported policy and compare it with the runtime at num_states states.

  ``clip_actions`` is the training's agent.clip_actions: the env side clamps raw actions as
  rsl_rl's wrapper does, the runtime side as deploy.yaml says (``action.raw_clip``)."""
  folder = Path(folder)
  try:
    probe = PolicyRuntime(folder)
  except (DeployError, ContractError) as e:
    raise ParityInputError(str(e)) from e
  contract = probe.contract
  interface = read_interface(env)
  interface.clip_actions = clip_actions
  check_inputs(env, contract, task, interface)
  try:
    samples = _rollout(env, folder, contract, interface, num_states, actor, seed)
  except DeployError as e:  # e.g. NaN actions on the env's own observation
    raise ParityInputError(f"the runtime failed during the rollout: {e}") from e
  names = interface.action_names
  report = ParityReport(
    task=task,
    policy_dir=str(folder),
    num_states=len(samples.quat),
    tol=tol,
    observations={
      t.name: _max_diff(samples.terms_rt.get(t.name), samples.terms_env[t.name]) for t in interface.terms
    },
    policy_input={
      t.name: _max_diff(samples.blocks_rt.get(t.name), samples.blocks_env[t.name]) for t in interface.terms
    },
    actions=dict(zip(names, _per_column(samples.action_rt, samples.action_env), strict=True)),
    actor=None
    if samples.action_actor is None
    else dict(zip(names, _per_column(samples.action_actor, samples.action_env), strict=True)),
    targets=dict(zip(contract.joint_names, _per_column(samples.target_rt, samples.target_env), strict=True)),
    gains=relative_gain_diffs(contract, interface),
    timing={
      "physics_dt": abs(contract.physics_dt - interface.physics_dt) / interface.physics_dt,
      "decimation": float(abs(contract.decimation - interface.decimation)),
      # 1 when deploy.yaml clamps raw actions differently from the training (agent.clip_actions).
      "action.raw_clip": float(contract.action.raw_clip != clip_actions),
    },
  )
  report.causes = diagnose(contract, interface, samples, tol)
  report.finish()
  return report


def _max_diff(rt: np.ndarray | None, env: np.ndarray) -> float:
  if rt is None or rt.shape != env.shape:
    return math.inf
  return float(np.abs(rt - env).max(initial=0.0))


def _per_column(rt: np.ndarray, env: np.ndarray) -> list[float]:
  return np.abs(rt - env).max(axis=0, initial=0.0).tolist()


def _rollout(
  env: ManagerBasedRlEnv,
  folder: Path,
  contract: DeployContract,
  interface: EnvInterface,
  num_states: int,
  actor: MLPModel | None,
  seed: int,
) -> Samples:
  """Step env with ONNX(env observation) and mirror every env in two runtimes.

  ``probe`` computes terms and the policy input (observe advances its history once per
  step, as deployment does) and runs the ONNX on the env's observation; ``runner`` is used
  only through ``step``, so its own output is compared end to end.
  """
  n = env.num_envs
  robot = env.scene[contract.robot.entity_name]
  order = [list(robot.joint_names).index(j) for j in contract.joint_names]
  probes = [PolicyRuntime(folder, contract) for _ in range(n)]
  runners = [PolicyRuntime(folder, contract) for _ in range(n)]
  rows: dict[str, list[np.ndarray]] = defaultdict(list)
  obs, _ = env.reset(seed=seed)
  for _ in range(math.ceil(num_states / n)):
    policy_obs = _numpy(obs[POLICY_GROUP]).astype(np.float32)
    states = _robot_states(env, contract, order)
    commands = {c.name: _numpy(env.command_manager.get_command(c.name)) for c in contract.commands}
    prev, prev2 = _numpy(env.action_manager.action), _numpy(env.action_manager.prev_action)
    applied = np.zeros((n, contract.policy.action_dim))
    for i in range(n):
      for rt in (probes[i], runners[i]):
        rt.last_action = prev[i].copy()
        for name, value in commands.items():
          rt.set_command(name, value[i])
      applied[i] = _record_state(probes[i], runners[i], states[i], policy_obs[i], interface, rows)
      rows["prev"].append(prev[i])
      rows["prev2"].append(prev2[i])
    if actor is not None:
      with torch.inference_mode():
        rows["actor"] += list(interface.as_trained(_numpy(actor(TensorDict(dict(obs), batch_size=[n])))))
    obs, _, terminated, truncated, _ = env.step(torch.from_numpy(applied).float())
    done = _numpy(terminated | truncated).astype(bool)
    rows["target_env"] += list(_numpy(robot.data.joint_pos_target[:, order]))
    rows["target_valid"] += list(~done[:, None])  # a reset rewrites the targets
    for i in np.flatnonzero(done):
      probes[i].reset()
      runners[i].reset()
    if actor is not None:
      actor.reset(torch.from_numpy(done))
  return _samples({key: np.stack(value)[:num_states] for key, value in rows.items()})


def _numpy(value: Any) -> np.ndarray:
  assert isinstance(value, torch.Tensor)
  return value.detach().cpu().numpy().astype(np.float64)


def _record_state(
  probe: PolicyRuntime,
  runner: PolicyRuntime,
  state: RobotState,
  policy_obs: np.ndarray,
  interface: EnvInterface,
  rows: dict[str, list[np.ndarray]],
) -> np.ndarray:
  """Both sides at one state; returns the env's action: ONNX on the env's own observation."""
  start = 0
  for term in interface.terms:
    block = policy_obs[start : start + term.frame_size * max(term.history_length, 1)]
    start += len(block)
    rows[f"env_block:{term.name}"].append(block)
    rows[f"env:{term.name}"].append(block[len(block) - term.frame_size :])  # newest frame is last
  for name, value in probe.compute_terms(state).items():
    rows[f"rt:{name}"].append(value)
  policy_input = probe.observe(state)
  start = 0
  for term in probe.contract.observations:
    rows[f"rt_block:{term.name}"].append(policy_input[start : start + term.size])
    start += term.size
  action = interface.as_trained(probe.infer(policy_obs))
  runner.step(state)
  rows["quat"].append(state.base_quat)
  rows["env_action"].append(action)
  rows["rt_action"].append(runner.last_action.copy())
  rows["target_rt"].append(probe.joint_targets(action))
  return action


def _samples(rows: dict[str, np.ndarray]) -> Samples:
  valid = rows["target_valid"][:, 0].astype(bool)
  per_term = lambda prefix: {k.split(":", 1)[1]: v for k, v in rows.items() if k.startswith(prefix)}  # noqa: E731
  return Samples(
    quat=rows["quat"],
    terms_env=per_term("env:"),
    terms_rt=per_term("rt:"),
    blocks_env=per_term("env_block:"),
    blocks_rt=per_term("rt_block:"),
    action_prev=rows["prev"],
    action_prev2=rows["prev2"],
    action_env=rows["env_action"],
    action_rt=rows["rt_action"],
    action_actor=rows.get("actor"),
    target_raw=rows["env_action"][valid],
    target_env=rows["target_env"][valid],
    target_rt=rows["target_rt"][valid],
  )


def _robot_states(env: ManagerBasedRlEnv, contract: DeployContract, order: list[int]) -> list[RobotState]:
  """Each env's robot state as a deployed robot measures it, joints in deploy.yaml order (by name)."""
  data = env.scene[contract.robot.entity_name].data
  quat = data.root_link_quat_w.cpu().numpy().astype(np.float64)
  ang = data.root_link_ang_vel_b.cpu().numpy().astype(np.float64)
  lin = data.root_link_lin_vel_b.cpu().numpy().astype(np.float64)
  q = data.joint_pos[:, order].cpu().numpy().astype(np.float64)
  qd = data.joint_vel[:, order].cpu().numpy().astype(np.float64)
  scan = _height_scan(env, contract)
  return [
    RobotState(quat[i], ang[i], lin[i], q[i], qd[i], None if scan is None else scan[i])
    for i in range(env.num_envs)
  ]


def _height_scan(env: ManagerBasedRlEnv, contract: DeployContract) -> np.ndarray | None:
  """Height of the scan frame above each ray's hit (mjlab's ray order), as RobotState wants it.

  A missed ray gets the sensor's max_distance (plus the term's offset, which the runtime
  subtracts), as mjlab's height_scan does when the term sets no miss_value; else NaN.
  """
  scans = [t for t in contract.observations if t.func == f"{mjlab_obs.__name__}:height_scan"]
  if not scans:
    return None
  sensors = {t.params["sensor_name"] for t in scans}
  if len(sensors) != 1:
    raise ParityInputError(f"height scan terms read sensors {sorted(sensors)}; RobotState holds one scan.")
  params = scans[0].params
  sensor = env.scene[sensors.pop()]
  data = sensor.data
  frames, rays = sensor.num_frames, sensor.num_rays_per_frame
  heights = (data.frame_pos_w[:, :, 2:3] - data.hit_pos_w[..., 2].view(-1, frames, rays)).reshape(
    env.num_envs, -1
  )
  miss = data.distances < 0
  fill = (
    math.nan if params.get("miss_value") is not None else sensor.cfg.max_distance + params.get("offset", 0.0)
  )
  return torch.where(miss, torch.full_like(heights, fill), heights).cpu().numpy().astype(np.float64)
