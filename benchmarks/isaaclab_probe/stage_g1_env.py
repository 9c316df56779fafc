# Isaac Lab 3 and Newton need Python 3.12; the 3.11 dev venv cannot hold them, so pyright cannot see them.
# pyright: reportMissingImports=false
"""Probe stage 2: the G1 of our robot model stands in an Isaac Lab ManagerBasedRLEnv on Newton.

The robot is mjlab's G1 MJCF (29 joints, capsule colliders, no actuators in the XML) spawned
through Isaac Lab's MJCF spawner (``sim_utils.MjcfFileCfg``: the standalone Isaac Sim importer,
``isaacsim-asset-isolated``, converts it to USD), actuated by implicit PD actuators with mjlab's
G1 gains, on the offline ground plane of ``assets/``; physics is Newton's MuJoCo Warp solver with
mjlab's velocity-task settings (dt 5 ms, decimation 4, 10 solver / 20 line-search iterations).
The env holds the knees-bent default pose (zero actions) and reports control steps per second
and whether the robots are still upright afterwards.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from probe_common import parse_g1_args, pelvis_height_summary, stage_main, stage_parser

GROUND_USD = Path(__file__).resolve().parent / "assets" / "ground_plane.usda"

# mjlab's G1 actuator groups (mjlab 1.6.0, asset_zoo/robots/unitree_g1/g1_constants.py): stiffness is
# armature * (2 pi 10 Hz)^2 and damping 2 * 2.0 * armature * (2 pi 10 Hz), i.e. a 10 Hz joint with
# damping ratio 2; the numbers are those constants evaluated.
# group: (joint patterns, stiffness [N m/rad], damping [N m s/rad], effort limit [N m], armature [kg m^2])
G1_ACTUATORS: dict[str, tuple[tuple[str, ...], float, float, float, float]] = {
  "5020": (
    (
      ".*_elbow_joint",
      ".*_shoulder_pitch_joint",
      ".*_shoulder_roll_joint",
      ".*_shoulder_yaw_joint",
      ".*_wrist_roll_joint",
    ),
    14.2506,
    0.9072,
    25.0,
    0.00361,
  ),
  "7520_14": ((".*_hip_pitch_joint", ".*_hip_yaw_joint", "waist_yaw_joint"), 40.1792, 2.5579, 88.0, 0.010178),
  "7520_22": ((".*_hip_roll_joint", ".*_knee_joint"), 99.0984, 6.3088, 139.0, 0.025102),
  "4010": ((".*_wrist_pitch_joint", ".*_wrist_yaw_joint"), 16.7783, 1.0681, 5.0, 0.00425),
  "waist": (("waist_pitch_joint", "waist_roll_joint"), 28.5012, 1.8144, 50.0, 0.007219),
  "ankle": ((".*_ankle_pitch_joint", ".*_ankle_roll_joint"), 28.5012, 1.8144, 50.0, 0.007219),
}
# mjlab's KNEES_BENT_KEYFRAME: pelvis height [m] and joint positions [rad].
G1_INIT_HEIGHT = 0.76
G1_INIT_JOINT_POS = {
  ".*_hip_pitch_joint": -0.312,
  ".*_knee_joint": 0.669,
  ".*_ankle_pitch_joint": -0.363,
  ".*_elbow_joint": 0.6,
  "left_shoulder_roll_joint": 0.2,
  "left_shoulder_pitch_joint": 0.2,
  "right_shoulder_roll_joint": -0.2,
  "right_shoulder_pitch_joint": 0.2,
}
MJWARP_SETTINGS: dict[str, Any] = {
  "njmax": 300,
  "nconmax": 70,
  "iterations": 10,
  "ls_iterations": 20,
  "cone": "pyramidal",
  "impratio": 1.0,
  "integrator": "implicitfast",
}
"""MuJoCo Warp settings of mjlab's G1 velocity task (constraints and contacts per env, solver iterations)."""
FALLEN_HEIGHT = 0.5
"""A pelvis below this height [m] counts as fallen (standing: ~0.75 m)."""


def g1_env_cfg(g1_xml: Path, usd_dir: Path, num_envs: int, device: str):
  """The manager-based env cfg: G1 from MJCF, offline ground, Newton MuJoCo Warp physics."""
  import isaaclab.sim as sim_utils
  from isaaclab.actuators import ImplicitActuatorCfg
  from isaaclab.assets import ArticulationCfg, AssetBaseCfg
  from isaaclab.envs import ManagerBasedRLEnvCfg, mdp
  from isaaclab.managers import (
    EventTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    TerminationTermCfg,
  )
  from isaaclab.scene import InteractiveSceneCfg
  from isaaclab.sim import SimulationCfg
  from isaaclab.utils import configclass
  from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg
  from isaaclab_newton.sim.schemas import NewtonArticulationCfg

  robot_cfg = ArticulationCfg(
    prim_path="{ENV_REGEX_NS}/Robot",
    spawn=sim_utils.MjcfFileCfg(
      asset_path=str(g1_xml),
      usd_dir=str(usd_dir),
      fix_base=False,
      self_collision=False,
      import_physics_scene=False,
      articulation_props=[NewtonArticulationCfg(self_collision_enabled=False)],
    ),
    init_state=ArticulationCfg.InitialStateCfg(
      pos=(0.0, 0.0, G1_INIT_HEIGHT), joint_pos=G1_INIT_JOINT_POS, joint_vel={".*": 0.0}
    ),
    soft_joint_pos_limit_factor=0.9,
    actuators={
      name: ImplicitActuatorCfg(
        joint_names_expr=list(patterns),
        stiffness=stiffness,
        damping=damping,
        joint_effort_limit=effort,
        armature=armature,
      )
      for name, (patterns, stiffness, damping, effort, armature) in G1_ACTUATORS.items()
    },
  )

  @configclass
  class SceneCfg(InteractiveSceneCfg):
    ground = AssetBaseCfg(prim_path="/World/ground", spawn=sim_utils.GroundPlaneCfg(usd_path=str(GROUND_USD)))
    robot: ArticulationCfg = robot_cfg

  @configclass
  class PolicyCfg(ObservationGroupCfg):
    base_ang_vel = ObservationTermCfg(func=mdp.base_ang_vel)
    projected_gravity = ObservationTermCfg(func=mdp.projected_gravity)
    joint_pos = ObservationTermCfg(func=mdp.joint_pos_rel)
    joint_vel = ObservationTermCfg(func=mdp.joint_vel_rel)
    actions = ObservationTermCfg(func=mdp.last_action)

  @configclass
  class ObservationsCfg:
    policy: PolicyCfg = PolicyCfg()

  @configclass
  class ActionsCfg:
    joint_pos = mdp.JointPositionActionCfg(asset_name="robot", joint_names=[".*"], scale=0.25)

  @configclass
  class RewardsCfg:
    alive = RewardTermCfg(func=mdp.is_alive, weight=1.0)

  @configclass
  class TerminationsCfg:
    time_out = TerminationTermCfg(func=mdp.time_out, time_out=True)
    fell = TerminationTermCfg(func=mdp.root_height_below_minimum, params={"minimum_height": 0.3})

  @configclass
  class EventsCfg:
    reset = EventTermCfg(func=mdp.reset_scene_to_default, mode="reset")

  physics = NewtonCfg(
    solver_cfg=MJWarpSolverCfg(**MJWARP_SETTINGS),
    num_substeps=1,
    use_cuda_graph=device.startswith("cuda"),
  )
  return ManagerBasedRLEnvCfg(
    decimation=4,
    episode_length_s=20.0,
    sim=SimulationCfg(dt=0.005, render_interval=4, device=device, physics=physics),
    scene=SceneCfg(num_envs=num_envs, env_spacing=2.5, replicate_physics=True),
    observations=ObservationsCfg(),
    actions=ActionsCfg(),
    rewards=RewardsCfg(),
    terminations=TerminationsCfg(),
    events=EventsCfg(),
  )


def run(g1_xml: Path, usd_dir: Path, num_envs: int, steps: int, device: str) -> dict[str, Any]:
  """Build the env, hold the default pose for ``steps`` control steps, time it, check heights."""
  # The standalone importer registers its fallback PhysX USD schemas (PhysxJointAPI, ...) when it is
  # imported, and OpenUSD ignores schemas registered after its schema registry is first built --
  # which Isaac Lab does when it creates the stage, before the MJCF spawner imports the importer:
  # the conversion then fails with "Cannot find a valid schema for ... 'PhysxJointAPI'". Importing
  # the importer first registers them in time.
  import isaacsim.asset.importer.mjcf  # noqa: F401
  import torch
  from isaaclab.app import launch_simulation

  cfg = g1_env_cfg(g1_xml, usd_dir, num_envs, device)
  findings: dict[str, Any] = {"g1_xml": g1_xml, "num_envs": num_envs, "device": device}
  with launch_simulation(cfg, {"device": device}):
    from isaaclab.envs import ManagerBasedRLEnv

    start = time.monotonic()
    env = ManagerBasedRLEnv(cfg=cfg)
    findings["build_s"] = round(time.monotonic() - start, 1)
    try:
      robot = env.scene["robot"]
      findings["joint_names"] = list(robot.joint_names)
      findings["body_names"] = list(robot.body_names)
      findings["obs_dim"] = env.observation_manager.group_obs_dim["policy"]
      findings["action_dim"] = env.action_manager.total_action_dim
      env.reset()
      actions = torch.zeros(env.num_envs, env.action_manager.total_action_dim, device=env.device)
      start = time.monotonic()
      env.step(actions)  # the first step compiles kernels and captures the CUDA graph
      findings["first_step_s"] = round(time.monotonic() - start, 1)
      heights = []
      terminated = torch.zeros((), dtype=torch.long, device=env.device)
      start = time.monotonic()
      for _ in range(steps):
        _, _, term, _, _ = env.step(actions)
        terminated += term.sum()  # stays on the device: no sync per step
        heights.append(robot.data.root_pos_w.torch[:, 2].clone())
      if env.device.startswith("cuda"):
        torch.cuda.synchronize()
      elapsed = time.monotonic() - start
      height = torch.stack(heights)  # (steps, num_envs), pelvis height [m]
      findings.update(
        steps=steps,
        seconds_simulated=round(steps * cfg.decimation * cfg.sim.dt, 2),
        env_steps_per_s=round(steps * env.num_envs / elapsed),
        physics_steps_per_s=round(steps * env.num_envs * cfg.decimation / elapsed),
        terminations=int(terminated),
        **pelvis_height_summary(height, cfg.decimation * cfg.sim.dt, FALLEN_HEIGHT),
      )
    finally:
      env.close()
  return findings


if __name__ == "__main__":
  parser = stage_parser("G1 (mjlab MJCF) in an Isaac Lab ManagerBasedRLEnv on Newton MuJoCo Warp")
  parser.add_argument("--usd_dir", type=Path, default=Path("/tmp/il_probe/g1_usd"), help="MJCF->USD output")
  args = parse_g1_args(parser)
  run_args = (args.g1_xml, args.usd_dir, args.num_envs, args.steps, args.device)
  raise SystemExit(stage_main("g1_env", args.out, lambda: run(*run_args)))
