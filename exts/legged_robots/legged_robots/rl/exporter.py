"""Export a trained actor to ``exported/policy.onnx`` + ``exported/deploy.yaml``.

The folder is written whole: its files go to a staging folder that is then renamed into
place (``rl/run_dir.publish_export``), so a kill at any moment leaves the previous
complete export, never a policy of one save beside the deploy.yaml of another.

The ONNX graph is rsl_rl's own export wrapper (``model.as_onnx()``): empirical obs
normalization, MLP (and RNN), deterministic mean output. A recurrent policy takes and
returns its hidden state (``obs, h_in, c_in -> actions, h_out, c_out`` for LSTM), so the
runtime owns the state and resets it to zeros at episode start.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from mjlab.envs import ManagerBasedRlEnv
from rsl_rl.models import MLPModel

from legged_robots.deploy import DeployContract, PolicySpec
from legged_robots.deploy.motion_goals import GOALS_SUFFIX, StartState
from legged_robots.rl.checkpoint import atomic_write
from legged_robots.rl.contract_builder import build_contract, robot_mjcf
from legged_robots.rl.run_dir import publish_export
from legged_robots.tasks.mdp.commands import UniformVelocityCommandCfg, clip_base_velocity
from legged_robots.tasks.mdp.motion_command import MotionCommand

OPSET = 18
ONNX_NAME = "policy.onnx"
CONTRACT_NAME = "deploy.yaml"
ROBOT_MJCF_NAME = "robot.xml"


def policy_spec(actor: MLPModel, action_dim: int) -> PolicySpec:
  """ONNX signature of actor, as rsl_rl's export wrapper defines it."""
  wrapper: Any = actor.as_onnx(verbose=False)  # rsl_rl's export wrappers are untyped
  rnn = getattr(wrapper, "rnn", None)
  return PolicySpec(
    file=ONNX_NAME,
    input_names=list(wrapper.input_names),
    output_names=list(wrapper.output_names),
    obs_dim=int(actor.obs_dim),
    action_dim=action_dim,
    recurrent=bool(wrapper.is_recurrent),
    rnn_type=getattr(wrapper, "rnn_type", None),
    rnn_hidden_dim=None if rnn is None else int(rnn.hidden_size),
    rnn_num_layers=None if rnn is None else int(rnn.num_layers),
  )


def export_onnx(actor: MLPModel, path: Path, metadata: dict[str, str]) -> None:
  """Write actor as ONNX (opset 18, batch 1) with metadata_props, atomically."""
  wrapper: Any = actor.as_onnx(verbose=False)
  wrapper.to("cpu").eval()

  def write(tmp: Path) -> None:
    # dynamo=False: the legacy tracer handles rsl_rl's wrappers and keeps the
    # named inputs/outputs; dynamic_axes={} pins batch size 1 as the runtimes use.
    torch.onnx.export(
      wrapper,
      wrapper.get_dummy_inputs(),
      str(tmp),
      export_params=True,
      opset_version=OPSET,
      input_names=wrapper.input_names,
      output_names=wrapper.output_names,
      dynamic_axes={},
      dynamo=False,
    )
    model = onnx.load(str(tmp))
    for key, value in metadata.items():
      entry = model.metadata_props.add()
      entry.key, entry.value = key, value
    onnx.save(model, str(tmp))

  atomic_write(path, write)


def onnx_metadata(contract: DeployContract, iteration: int | None) -> dict[str, str]:
  """Flat string metadata: the runtime can check the graph against deploy.yaml."""
  meta = {
    "schema_version": str(contract.schema_version),
    "task": contract.task,
    "joint_names": json.dumps(contract.joint_names),
    "default_joint_pos": json.dumps(contract.default_joint_pos),
    "action_scale": json.dumps(contract.action.scale),
    "observation_names": json.dumps([t.name for t in contract.observations]),
    "observation_sizes": json.dumps([t.size for t in contract.observations]),
    "command_names": json.dumps([c.name for c in contract.commands]),
    "step_dt": repr(contract.step_dt),
    "recurrent": json.dumps(contract.policy.recurrent),
  }
  if iteration is not None:
    meta["iteration"] = str(iteration)
  return meta


def _write_text(path: Path, text: str) -> None:
  path.write_text(text)


def export_policy(
  actor: MLPModel,
  env: ManagerBasedRlEnv,
  task_id: str,
  out_dir: Path,
  iteration: int | None = None,
  clip_actions: float | None = None,
) -> DeployContract:
  """Write out_dir/{policy.onnx,robot.xml,deploy.yaml} as one folder swap; return the
  contract. clip_actions: the agent's clamp on raw actions (rsl_rl's wrapper applies it
  before the env)."""
  written: list[DeployContract] = []

  def write(staging: Path) -> None:
    written.append(_write_export(actor, env, task_id, staging, iteration, clip_actions))

  publish_export(out_dir, write)
  return written[0]


def _write_export(
  actor: MLPModel,
  env: ManagerBasedRlEnv,
  task_id: str,
  out_dir: Path,
  iteration: int | None,
  clip_actions: float | None,
) -> DeployContract:
  action_dim = int(env.action_manager.total_action_dim)
  contract = build_contract(env, task_id, policy_spec(actor, action_dim), clip_actions)
  export_onnx(actor, out_dir / ONNX_NAME, onnx_metadata(contract, iteration))
  xml = robot_mjcf(env, contract.robot.entity_name)
  atomic_write(out_dir / ROBOT_MJCF_NAME, lambda tmp: _write_text(tmp, xml))
  contract.robot.sim_mjcf = ROBOT_MJCF_NAME
  export_goal_tables(env, contract, out_dir)
  contract.save(out_dir / CONTRACT_NAME)
  return contract


def export_goal_tables(env: ManagerBasedRlEnv, contract: DeployContract, out_dir: Path) -> None:
  """Motion commands: their goals over one episode from clip time 0, for replay at deployment,
  the reference it stands for (to score a run), and for a full-state start (whole-body
  tracking) the clip's frame 0 as training places it (``deploy.motion_goals``). A velocity
  command that adds a clip's base velocity names that motion command (``adds``), whose
  table then holds the base velocity per row. Sets each motion command's ``goals`` (and a
  velocity command's ``adds``) in ``contract``. Also how ``rl.goal_tables.attach_goal_tables``
  rebuilds the tables of a folder shipped without them."""
  added = set()
  for spec in contract.commands:
    cfg = env.cfg.commands[spec.name]
    if isinstance(cfg, UniformVelocityCommandCfg) and cfg.motion_command is not None:
      spec.adds = cfg.motion_command
      added.add(cfg.motion_command)
  for spec in contract.commands:
    term = env.command_manager.get_term(spec.name)
    if not isinstance(term, MotionCommand):
      continue
    frames = term.clip_frames(int(env.max_episode_length))
    arrays = {
      "goals": term.goal(frames).cpu().numpy().astype(np.float32),
      "joint_names": np.array([term.asset.joint_names[i] for i in term.joint_ids]),
      "loop": np.array(term.cfg.loop),  # past the table: wrap to row 0, else hold the last row
    }
    if term.library.body_names:  # the links' reference, to score a run (sim2mujoco)
      arrays |= {
        "link_names": np.array(term.library.body_names),
        "link_pos_w": frames["body_pos_w"].cpu().numpy(),
        "root_pos_w": frames["root_pos"].cpu().numpy(),
        "root_quat": frames["root_quat"].cpu().numpy(),
      }
    if spec.name in added:
      arrays["base_velocity"] = clip_base_velocity(frames).cpu().numpy()
    if term.cfg.init == "full":
      arrays |= _start_state(term, contract.joint_names).to_npz()
    spec.goals = f"{spec.name}{GOALS_SUFFIX}"
    atomic_write(out_dir / spec.goals, lambda tmp, a=arrays: _write_npz(tmp, a))


def _start_state(term: MotionCommand, joint_names: list[str]) -> StartState:
  """Clip 0's frame 0 (``MotionCommand.start_frame``), joints in the contract's order."""
  frame = {k: v[0].cpu().numpy().astype(np.float64) for k, v in term.start_frame().items()}
  cols = [term.asset.joint_names.index(name) for name in joint_names]
  return StartState(
    root_pos=frame["root_pos"],
    root_quat=frame["root_quat"],
    root_lin_vel_w=frame["root_lin_vel_w"],
    root_ang_vel_w=frame["root_ang_vel_w"],
    joint_pos=frame["joint_pos"][cols],
    joint_vel=frame["joint_vel"][cols],
  )


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
  with open(path, "wb") as f:
    np.savez(f, **arrays)  # pyright: ignore[reportArgumentType]  (the stub types **kwds as allow_pickle)
