# Isaac Lab 3 needs Python 3.12; the 3.11 dev venv cannot hold it, so pyright cannot see it.
# pyright: reportMissingImports=false
"""Write st_gym's deployment contract from an Isaac Lab rsl_rl run.

    python3 -m legged_robots_isaaclab.export --run logs/rsl_rl/g1_flat_stgym/<run> [--checkpoint model_N.pt]

writes ``<run>/exported/{policy.onnx, deploy.yaml, robot.xml}`` (docs/deploy_contract.md), which
``scripts/st_rl/sim2mujoco.py --policy <run>/exported`` and the ROS 2 node run unchanged. The
task comes from the run's ``run.json`` (Isaac Lab's run manifest); its ``-Play`` variant is built
with one env on the CPU, so the joint order, default pose, actuator gains and the policy group's
term layout are read off the env that Isaac Lab builds, not restated. The ONNX graph is rsl_rl's
own export (``runner.export_policy_to_onnx``: observation normalizer folded in, ``obs`` 1 x N ->
``actions``). Bad input: one message, exit 2, nothing written.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from legged_robots_isaaclab import contract, runs


def _plain_params(params: dict) -> dict:
  """Term params as YAML data in the runtime's vocabulary: ``sensor_cfg`` becomes ``sensor_name``, a
  SceneEntityCfg (the manager fills in ``asset_cfg``) becomes {name, joint_names}."""
  from isaaclab.managers import SceneEntityCfg

  out = {}
  for key, value in params.items():
    if key == "sensor_cfg":
      out["sensor_name"] = value.name
    elif isinstance(value, SceneEntityCfg):
      out[key] = {"name": value.name, "joint_names": value.joint_names}
    else:
      out[key] = value
  return out


def _values(env, agent_cfg, task: str) -> tuple[dict, dict]:
  """deploy.yaml's data and robot.xml's inputs, read off the built env."""
  from isaaclab.utils.string import resolve_matching_names_values

  from legged_robots_isaaclab import g1

  (term_name,) = env.action_manager.active_terms
  action = env.action_manager.get_term(term_name)
  robot = env.scene[action.cfg.asset_name]
  joints = list(action._joint_names)
  if not action.cfg.use_default_offset or action.cfg.clip is not None:
    raise contract.ContractValueError(
      f"action term {term_name}: the contract needs use_default_offset and no clip"
    )
  gains = {"stiffness": {}, "damping": {}, "effort_limit": {}, "armature": {}}
  for act in env.cfg.scene.robot.actuators.values():
    for pattern in act.joint_names_expr:
      for key, value in (
        ("stiffness", act.stiffness),
        ("damping", act.damping),
        ("effort_limit", act.joint_effort_limit),
        ("armature", act.armature),
      ):
        gains[key][pattern] = value
  per = {key: contract.per_joint(patterns, joints, key) for key, patterns in gains.items()}
  _, names, scale = resolve_matching_names_values(action.cfg.scale, joints)
  if names != joints:
    raise contract.ContractValueError(f"action scale patterns do not cover the joints in order: {names}")
  default = robot.data.default_joint_pos.torch[0, action._joint_ids].cpu().tolist()
  manager = env.observation_manager
  observations = [
    contract.observation_entry(
      name,
      f"{cfg.func.__module__}:{cfg.func.__qualname__}",
      int(dim[0]),
      _plain_params(cfg.params),
      cfg.scale,
      cfg.clip,
    )
    for name, dim, cfg in zip(
      manager.active_terms["policy"],
      manager.group_obs_term_dim["policy"],
      manager._group_obs_term_cfgs["policy"],
      strict=True,
    )
  ]
  commands = []
  for name in env.command_manager.active_terms:
    cfg = getattr(env.cfg.commands, name)
    ranges = {k: v for k, v in vars(cfg.ranges).items() if isinstance(v, tuple)}
    commands.append((name, f"{type(cfg).__module__}:{type(cfg).__qualname__}", ranges))
  xml = g1.g1_xml_path()
  data = contract.contract_dict(
    task=task,
    mjcf_path=str(xml),
    model_name=ET.parse(xml).getroot().get("model", ""),
    joint_names=joints,
    default_pos=default,
    stiffness=per["stiffness"],
    damping=per["damping"],
    effort_limit=per["effort_limit"],
    action_term=term_name,
    action_scale=scale,
    raw_clip=agent_cfg.clip_actions,
    physics_dt=env.cfg.sim.dt,
    decimation=env.cfg.decimation,
    observations=observations,
    commands=commands,
    action_dim=env.action_manager.total_action_dim,
  )
  mjcf = {
    "g1_xml": xml,
    "joint_names": joints,
    "stiffness": per["stiffness"],
    "damping": per["damping"],
    "effort_limit": per["effort_limit"],
    "armature": per["armature"],
    "init_height": env.cfg.scene.robot.init_state.pos[2],
    "init_pos": default,
    "physics_dt": env.cfg.sim.dt,
  }
  return data, mjcf


def _add_metadata(path: Path, data: dict, iteration: int) -> None:
  """The metadata_props st_gym's exporter writes, so a runtime can check graph against YAML."""
  import onnx

  model = onnx.load(str(path))
  meta = {
    "schema_version": str(data["schema_version"]),
    "task": data["task"],
    "iteration": str(iteration),
    "step_dt": str(data["step_dt"]),
    "recurrent": "false",
    "joint_names": json.dumps(data["joint_names"]),
    "default_joint_pos": json.dumps(data["default_joint_pos"]),
    "action_scale": json.dumps(data["action"]["scale"]),
    "observation_names": json.dumps([o["name"] for o in data["observations"]]),
    "observation_sizes": json.dumps([o["size"] for o in data["observations"]]),
    "command_names": json.dumps([c["name"] for c in data["commands"]]),
  }
  for key, value in meta.items():
    model.metadata_props.add(key=key, value=value)
  # torch's dynamo exporter may put the weights in <file>.data; the contract is one file.
  onnx.save(model, str(path), save_as_external_data=False)
  Path(f"{path}.data").unlink(missing_ok=True)


def export(run: Path, checkpoint: Path, task: str) -> Path:
  """Build the task's play env (1 env, CPU), load the checkpoint, write ``<run>/exported``."""
  staging = run / ".exported.tmp"
  shutil.rmtree(staging, ignore_errors=True)
  with runs.play_policy(task, checkpoint, num_envs=1, device="cpu") as (env, _, runner, agent_cfg):
    data, mjcf = _values(env, agent_cfg, task)
    staging.mkdir()
    runner.export_policy_to_onnx(str(staging), contract.ONNX_NAME)
  try:
    _add_metadata(staging / contract.ONNX_NAME, data, runner.current_learning_iteration)
    contract.write_contract(data, staging)
    (staging / contract.ROBOT_MJCF_NAME).write_text(contract.robot_mjcf(**mjcf))
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  out = run / "exported"
  shutil.rmtree(out, ignore_errors=True)
  staging.rename(out)
  return out


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
  parser.add_argument(
    "--run", type=Path, required=True, help="logs/rsl_rl/<experiment>/<run> of isaaclab train"
  )
  parser.add_argument("--checkpoint", help="model_<N>.pt in the run (default: the latest)")
  args = parser.parse_args(argv)
  try:
    checkpoint, task = runs.run_inputs(args.run, args.checkpoint)
  except runs.RunInputError as e:
    print(f"[export] error: {e}", file=sys.stderr)
    return 2
  try:
    out = export(args.run.resolve(), checkpoint, task)
  except contract.ContractValueError as e:
    print(f"[export] cannot write the contract: {e}", file=sys.stderr)
    return 1
  print(f"[export] {checkpoint.name} of {task} -> {out}")
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
