# Isaac Lab 3 needs Python 3.12; the 3.11 dev venv cannot hold it, so pyright cannot see it.
# pyright: reportMissingImports=false
"""st_gym's G1 velocity tasks (``Flat-G1`` / ``Rough-G1``) as Isaac Lab manager-based env cfgs.

The terms, weights, noise, ranges, events and terminations are those of
``legged_robots.tasks.config.g1.env_cfgs`` and ``tasks/locomotion/locomotion_env_cfg.py``
(st_gym overview, sections 3.1-3.7), built from Isaac Lab's own MDP terms where Isaac Lab
has them and from ``legged_robots_isaaclab.mdp`` where it has not. What Isaac Lab on Newton
cannot express the same way is listed in docs/isaaclab.md ("Step 2", differences).

Physics: Newton with the MuJoCo Warp solver and mjlab's G1 settings (dt 5 ms, decimation 4,
10 solver / 20 line-search iterations), selectable as ``presets=newton_mjwarp`` (also the
default). Ground: a local USD plane (flat) or Isaac Lab's terrain generator (rough), never a
cloud asset. Near 500 lines: the whole task (30 reward, event and observation terms, one
configclass attribute each, as Isaac Lab writes its tasks) in one file.
"""

from __future__ import annotations

import math
from pathlib import Path

from isaaclab.assets import ArticulationCfg
from isaaclab.envs import ManagerBasedRLEnvCfg
from isaaclab.envs import mdp as il_mdp
from isaaclab.managers import CurriculumTermCfg as CurrTerm
from isaaclab.managers import EventTermCfg as EventTerm
from isaaclab.managers import ObservationGroupCfg as ObsGroup
from isaaclab.managers import ObservationTermCfg as ObsTerm
from isaaclab.managers import RewardTermCfg as RewTerm
from isaaclab.managers import SceneEntityCfg
from isaaclab.managers import TerminationTermCfg as DoneTerm
from isaaclab.scene import InteractiveSceneCfg
from isaaclab.sensors import ContactSensorCfg, RayCasterCfg, patterns
from isaaclab.sim import SimulationCfg
from isaaclab.terrains import TerrainImporterCfg
from isaaclab.terrains.config.rough import ROUGH_TERRAINS_CFG
from isaaclab.utils import configclass
from isaaclab.utils.noise import UniformNoiseCfg as Unoise
from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg, NewtonCollisionPipelineCfg, NewtonShapeCfg
from isaaclab_tasks.core.velocity import mdp as vel_mdp
from isaaclab_tasks.utils import PresetCfg

from legged_robots_isaaclab import g1
from legged_robots_isaaclab import mdp as st_mdp

COMMAND = "base_velocity"
GROUND_USD = Path(__file__).resolve().parent / "assets" / "ground_plane.usda"
LEGS = [r".*_hip_.*_joint", r".*_knee_joint", r".*_ankle_.*_joint"]
FEET_CONTACT = SceneEntityCfg("contact_forces", body_names=list(g1.FEET_BODIES))
UNDESIRED_CONTACT = SceneEntityCfg("contact_forces", body_names=g1.UNDESIRED_BODIES)


def _mjwarp(rough: bool) -> NewtonCfg:
  """mjlab's G1 velocity-task solver settings (Flat-G1: njmax 300; Rough-G1: 1500; 70 contacts).

  Rough: the generated terrain is a triangle mesh, which Isaac Lab's own rough velocity preset
  collides through Newton's collision pipeline (``use_mujoco_contacts=False``) with its shape
  contact parameters (margin 0, ke 1.6e5, kd 1100) and triangle-pair budget; taken from there.
  Flat keeps MuJoCo's own contacts, as mjlab does.
  """
  return NewtonCfg(
    solver_cfg=MJWarpSolverCfg(
      njmax=1500 if rough else 300,
      nconmax=70,
      iterations=10,
      ls_iterations=20,
      cone="pyramidal",
      impratio=1.0,
      integrator="implicitfast",
      use_mujoco_contacts=not rough,
    ),
    collision_cfg=NewtonCollisionPipelineCfg(max_triangle_pairs=2_500_000) if rough else None,
    default_shape_cfg=NewtonShapeCfg(margin=0.0, ke=160000.0, kd=1100.0) if rough else NewtonShapeCfg(),
    num_substeps=1,
  )


@configclass
class PhysicsCfg(PresetCfg):
  """Physics presets: only Newton / MuJoCo Warp (``presets=newton_mjwarp``) is set up."""

  newton_mjwarp: NewtonCfg = _mjwarp(rough=False)
  default: NewtonCfg = newton_mjwarp


@configclass
class SceneCfg(InteractiveSceneCfg):
  """Ground, the G1, contact forces on every body, and (rough) a height scanner."""

  terrain: TerrainImporterCfg = TerrainImporterCfg(
    prim_path="/World/ground", terrain_type="usd", usd_path=str(GROUND_USD), debug_vis=False
  )
  robot: ArticulationCfg | None = None
  contact_forces = ContactSensorCfg(
    prim_path="{ENV_REGEX_NS}/Robot/.*", history_length=3, track_air_time=True
  )
  height_scanner: RayCasterCfg | None = None


def _observations(rough: bool):
  """Actor: noisy proprioception + command (+ height scan); critic: noiseless + privileged."""

  @configclass
  class PolicyCfg(ObsGroup):
    base_ang_vel = ObsTerm(func=il_mdp.base_ang_vel, noise=Unoise(n_min=-0.2, n_max=0.2))
    projected_gravity = ObsTerm(func=il_mdp.projected_gravity, noise=Unoise(n_min=-0.05, n_max=0.05))
    joint_pos = ObsTerm(func=il_mdp.joint_pos_rel, noise=Unoise(n_min=-0.01, n_max=0.01))
    joint_vel = ObsTerm(func=il_mdp.joint_vel_rel, noise=Unoise(n_min=-1.5, n_max=1.5))
    actions = ObsTerm(func=il_mdp.last_action)
    velocity_commands = ObsTerm(func=il_mdp.generated_commands, params={"command_name": COMMAND})
    height_scan: ObsTerm | None = None
    enable_corruption = True
    concatenate_terms = True

  @configclass
  class CriticCfg(ObsGroup):
    base_height = ObsTerm(func=il_mdp.base_pos_z)
    base_quat = ObsTerm(func=il_mdp.root_quat_w)
    base_lin_vel = ObsTerm(func=il_mdp.base_lin_vel)
    base_ang_vel = ObsTerm(func=il_mdp.base_ang_vel)
    projected_gravity = ObsTerm(func=il_mdp.projected_gravity)
    joint_pos = ObsTerm(func=il_mdp.joint_pos_rel)
    joint_vel = ObsTerm(func=il_mdp.joint_vel_rel)
    actions = ObsTerm(func=il_mdp.last_action)
    velocity_commands = ObsTerm(func=il_mdp.generated_commands, params={"command_name": COMMAND})
    body_mass = ObsTerm(func=st_mdp.body_mass)
    feet_contact_forces = ObsTerm(func=st_mdp.contact_forces, params={"sensor_cfg": FEET_CONTACT}, scale=0.01)
    joint_stiffness_damping = ObsTerm(func=st_mdp.joint_stiffness_damping)
    height_scan: ObsTerm | None = None
    enable_corruption = False
    concatenate_terms = True

  @configclass
  class ObservationsCfg:
    policy: PolicyCfg = PolicyCfg()
    critic: CriticCfg = CriticCfg()

  obs = ObservationsCfg()
  if rough:
    # st_gym's height_scan observes the pelvis height above each hit point (Isaac Lab: sensor frame
    # z - hit z - offset; the frame is the pelvis, the 20 m ray-start offset is not in it), clipped
    # to +-1 and scaled by 1 / 5 m; the actor's is noisy.
    for group, noise in ((obs.policy, Unoise(n_min=-0.1, n_max=0.1)), (obs.critic, None)):
      group.height_scan = ObsTerm(
        func=il_mdp.height_scan,
        params={"sensor_cfg": SceneEntityCfg("height_scanner"), "offset": 0.0},
        noise=noise,
        scale=1 / 5.0,
        clip=(-1.0, 1.0),
      )
  return obs


@configclass
class EventsCfg:
  """st_gym's resets, startup randomization, pushes and torso wrenches."""

  reset_base = EventTerm(
    func=il_mdp.reset_root_state_uniform,
    mode="reset",
    params={
      "pose_range": {"x": (-0.5, 0.5), "y": (-0.5, 0.5), "yaw": (-math.pi, math.pi)},
      "velocity_range": {"x": (-0.2, 0.2), "y": (-0.2, 0.2), "yaw": (-0.2, 0.2)},
    },
  )
  reset_robot_joints = EventTerm(
    func=il_mdp.reset_joints_by_offset,
    mode="reset",
    params={"position_range": (-0.05, 0.05), "velocity_range": (0.0, 0.0)},
  )
  physics_material = EventTerm(
    func=il_mdp.randomize_rigid_body_material,
    mode="startup",
    params={
      "asset_cfg": SceneEntityCfg("robot", body_names=list(g1.FEET_BODIES)),
      "static_friction_range": (0.4, 1.2),
      "dynamic_friction_range": (0.4, 1.2),
      "restitution_range": (0.0, 0.0),
      "num_buckets": 64,
    },
  )
  # st_gym scales mass and inertia together by e^(2 alpha), alpha in +-0.05 (about +-10 %).
  reset_robot_rigid_body_mass = EventTerm(
    func=il_mdp.randomize_rigid_body_mass,
    mode="startup",
    params={
      "asset_cfg": SceneEntityCfg("robot", body_names=".*"),
      "mass_distribution_params": (math.exp(-0.1), math.exp(0.1)),
      "operation": "scale",
      "recompute_inertia": True,
    },
  )
  reset_robot_base_com = EventTerm(
    func=il_mdp.randomize_rigid_body_com,
    mode="startup",
    params={
      "asset_cfg": SceneEntityCfg("robot", body_names=[g1.TORSO_BODY]),
      "com_range": {"x": (-0.03, 0.03), "y": (-0.03, 0.03), "z": (-0.03, 0.03)},
    },
  )
  randomize_actuator_gains = EventTerm(
    func=il_mdp.randomize_actuator_gains,
    mode="startup",
    params={
      "asset_cfg": SceneEntityCfg("robot", joint_names=".*"),
      "stiffness_distribution_params": (0.9, 1.1),
      "damping_distribution_params": (0.9, 1.1),
      "operation": "scale",
    },
  )
  randomize_joint_friction = EventTerm(
    func=il_mdp.randomize_joint_parameters,
    mode="startup",
    params={
      "asset_cfg": SceneEntityCfg("robot", joint_names=".*"),
      "friction_distribution_params": (0.0, 0.05),
      "operation": "abs",
    },
  )
  randomize_joint_armature_limits = EventTerm(
    func=il_mdp.randomize_joint_parameters,
    mode="startup",
    params={
      "asset_cfg": SceneEntityCfg("robot", joint_names=".*"),
      "armature_distribution_params": (0.9, 1.1),
      "lower_limit_distribution_params": (0.98, 1.02),
      "upper_limit_distribution_params": (0.98, 1.02),
      "operation": "scale",
    },
  )
  push_robot: EventTerm | None = EventTerm(
    func=il_mdp.push_by_setting_velocity,
    mode="interval",
    interval_range_s=(5.0, 10.0),
    params={"velocity_range": {"x": (-0.5, 0.5), "y": (-0.5, 0.5)}},
  )
  # st_gym: 0.1-0.5 s wrenches (+-20 N, +-3 N m, world frame) on the torso, 4-8 s apart per env.
  external_force_torque: EventTerm | None = EventTerm(
    func=st_mdp.body_wrench_pulses,
    mode="interval",
    interval_range_s=(0.0, 0.0),
    is_global_time=True,
    params={
      "asset_cfg": SceneEntityCfg("robot", body_names=[g1.TORSO_BODY]),
      "force_range": (-20.0, 20.0),
      "torque_range": (-3.0, 3.0),
      "duration_s": (0.1, 0.5),
      "cooldown_s": (4.0, 8.0),
    },
  )


@configclass
class RewardsCfg:
  """Flat-G1's reward set and weights (locomotion base terms + the G1 terms)."""

  termination_penalty = RewTerm(func=il_mdp.is_terminated, weight=-200.0)
  track_lin_vel_xy_exp = RewTerm(
    func=il_mdp.track_lin_vel_xy_exp, weight=1.5, params={"command_name": COMMAND, "std": 0.5}
  )
  track_ang_vel_z_exp = RewTerm(
    func=il_mdp.track_ang_vel_z_exp, weight=1.0, params={"command_name": COMMAND, "std": 0.5}
  )
  feet_slide = RewTerm(
    func=st_mdp.feet_slip,
    weight=-0.1,
    params={
      "sensor_cfg": FEET_CONTACT,
      "command_name": COMMAND,
      "asset_cfg": SceneEntityCfg("robot", body_names=list(g1.FEET_BODIES)),
    },
  )
  undesired_contacts = RewTerm(
    func=il_mdp.undesired_contacts, weight=-1.0, params={"sensor_cfg": UNDESIRED_CONTACT, "threshold": 1.0}
  )
  action_rate_l2 = RewTerm(func=il_mdp.action_rate_l2, weight=-0.005)
  dof_acc_l2 = RewTerm(
    func=il_mdp.joint_acc_l2, weight=-1.25e-7, params={"asset_cfg": SceneEntityCfg("robot", joint_names=LEGS)}
  )
  dof_torques_l2 = RewTerm(
    func=il_mdp.joint_torques_l2,
    weight=-1.5e-7,
    params={"asset_cfg": SceneEntityCfg("robot", joint_names=LEGS)},
  )
  dof_pos_limits = RewTerm(func=il_mdp.joint_pos_limits, weight=-1.0)
  flat_orientation_l2 = RewTerm(func=il_mdp.flat_orientation_l2, weight=-1.0)
  alive = RewTerm(func=il_mdp.is_alive, weight=0.5)
  ang_vel_xy_l2 = RewTerm(func=il_mdp.ang_vel_xy_l2, weight=-0.05)
  feet_air_time = RewTerm(
    func=vel_mdp.feet_air_time_positive_biped,
    weight=0.5,
    params={"sensor_cfg": FEET_CONTACT, "threshold": 0.4, "command_name": COMMAND},
  )
  # st_gym's one joint_deviation term (weight -0.1, factor 1 on hips yaw/roll, arms, waist,
  # wrists and 0.5 on ankle roll) as Isaac Lab's joint_deviation_l1 twice: the same sum.
  joint_deviation = RewTerm(
    func=il_mdp.joint_deviation_l1,
    weight=-0.1,
    params={
      "asset_cfg": SceneEntityCfg(
        "robot",
        joint_names=[
          r".*_hip_(yaw|roll)_joint",
          r".*_(shoulder_.*|elbow)_joint",
          r"waist_.*_joint",
          r".*_wrist_.*_joint",
        ],
      )
    },
  )
  joint_deviation_ankle_roll = RewTerm(
    func=il_mdp.joint_deviation_l1,
    weight=-0.05,
    params={"asset_cfg": SceneEntityCfg("robot", joint_names=[r".*_ankle_roll_joint"])},
  )
  energy_cost = RewTerm(
    func=st_mdp.electrical_power_cost,
    weight=-2e-5,
    params={"asset_cfg": SceneEntityCfg("robot", joint_names=".*")},
  )
  feet_parallel = RewTerm(
    func=st_mdp.feet_parallel,
    weight=0.25,
    params={
      "std": 0.25,
      "asset_cfg": SceneEntityCfg("robot", body_names=list(g1.FEET_BODIES), preserve_order=True),
    },
  )
  feet_stumble = RewTerm(func=st_mdp.feet_stumble, weight=-1.0, params={"sensor_cfg": FEET_CONTACT})
  action_smoothness_2 = RewTerm(func=st_mdp.action_acc_l2, weight=-0.005)
  dof_vel_limits = RewTerm(
    func=st_mdp.joint_excess_l1,
    weight=-1.0,
    params={"quantity": "joint_vel", "limits": g1.g1_velocity_limits(), "soft_ratio": 0.9},
  )
  dof_torques_limits = RewTerm(
    func=st_mdp.joint_excess_l1,
    weight=-0.01,
    params={"quantity": "applied_torque", "limits": g1.g1_effort_limits(), "soft_ratio": 0.9},
  )
  contact_forces = RewTerm(
    func=st_mdp.contact_forces_excess,
    weight=-1e-3,
    params={"sensor_cfg": FEET_CONTACT, "max_contact_force": 500.0},
  )


@configclass
class TerminationsCfg:
  time_out = DoneTerm(func=il_mdp.time_out, time_out=True)
  base_height = DoneTerm(func=il_mdp.root_height_below_minimum, params={"minimum_height": 0.4})
  bad_orientation = DoneTerm(func=il_mdp.bad_orientation, params={"limit_angle": 1.0})
  out_of_terrain_bounds: DoneTerm | None = None


def _schedule(term: str, weight: float, iterations: int) -> CurrTerm:
  """Regularizer ``term`` moves to ``weight`` over ``iterations`` PPO iterations (24 steps each)."""
  return CurrTerm(
    func=st_mdp.reward_weight_linear,
    params={"term_name": term, "weight": weight, "num_steps": iterations * 24},
  )


@configclass
class CurriculumCfg:
  """Flat-G1's weight schedules (regularizers tighten over ~1500 iterations); rough adds terrain levels."""

  alive_schedule: CurrTerm | None = _schedule("alive", 0.15, 1000)
  action_rate_l2_schedule: CurrTerm | None = _schedule("action_rate_l2", -0.01, 1500)
  action_smoothness_2_schedule: CurrTerm | None = _schedule("action_smoothness_2", -0.01, 1500)
  dof_torques_l2_schedule: CurrTerm | None = _schedule("dof_torques_l2", -3e-7, 1500)
  dof_acc_l2_schedule: CurrTerm | None = _schedule("dof_acc_l2", -2.5e-7, 1500)
  contact_forces_schedule: CurrTerm | None = _schedule("contact_forces", -2e-3, 1500)
  terrain_levels: CurrTerm | None = None


@configclass
class CommandsCfg:
  base_velocity = il_mdp.UniformVelocityCommandCfg(
    asset_name="robot",
    resampling_time_range=(5.0, 10.0),
    rel_standing_envs=0.05,
    rel_heading_envs=0.3,
    heading_command=True,
    heading_control_stiffness=0.5,
    debug_vis=False,
    ranges=il_mdp.UniformVelocityCommandCfg.Ranges(
      lin_vel_x=(-0.5, 1.0), lin_vel_y=(-0.3, 0.3), ang_vel_z=(-1.0, 1.0), heading=(-math.pi, math.pi)
    ),
  )


@configclass
class ActionsCfg:
  """Joint position targets: default pose + action * (0.25 effort / stiffness) per joint, applied
  0 or 1 control steps late (drawn per env at reset), as st_gym's Flat-G1."""

  joint_pos = st_mdp.DelayedJointPositionActionCfg(
    asset_name="robot",
    joint_names=[".*"],
    scale=g1.g1_action_scale(),
    use_default_offset=True,
    preserve_order=False,
    latency_steps=(0, 1),
  )


def g1_velocity_env_cfg(rough: bool = False, play: bool = False) -> ManagerBasedRLEnvCfg:
  """Isaac-{Flat,Rough}-G1-StGym[-Play]: st_gym's Flat-G1 / Rough-G1 on Isaac Lab + Newton.

  ``play=True``: 32 envs, no observation noise, no pushes or wrenches, no weight schedules,
  one command per episode (st_gym's play variant).
  """
  scene = SceneCfg(num_envs=4096, env_spacing=2.5)
  scene.robot = g1.g1_articulation_cfg()
  physics = PhysicsCfg()
  curriculum = CurriculumCfg()
  events = EventsCfg()
  terminations = TerminationsCfg()
  if rough:
    scene.terrain = TerrainImporterCfg(
      prim_path="/World/ground",
      terrain_type="generator",
      terrain_generator=ROUGH_TERRAINS_CFG.replace(curriculum=not play),
      max_init_terrain_level=5,
      collision_group=-1,
      debug_vis=False,
    )
    scene.height_scanner = RayCasterCfg(
      # the MJCF converter nests the bodies under Geometry/ (pelvis is the root link)
      prim_path="{ENV_REGEX_NS}/Robot/Geometry/" + g1.BASE_BODY,
      offset=RayCasterCfg.OffsetCfg(pos=(0.0, 0.0, 20.0)),
      ray_alignment="yaw",
      pattern_cfg=patterns.GridPatternCfg(resolution=0.1, size=[1.6, 1.0]),
      mesh_prim_paths=["/World/ground"],
      global_world_only=True,
    )
    physics.newton_mjwarp = physics.default = _mjwarp(rough=True)
    curriculum.terrain_levels = CurrTerm(func=vel_mdp.terrain_levels_vel)
    terminations.out_of_terrain_bounds = DoneTerm(func=vel_mdp.terrain_out_of_bounds, time_out=True)
    terminations.base_height = DoneTerm(
      func=st_mdp.root_height_above_terrain_below_minimum,
      params={"minimum_height": 0.4, "sensor_cfg": SceneEntityCfg("height_scanner")},
    )
  cfg = ManagerBasedRLEnvCfg(
    decimation=4,
    episode_length_s=20.0,
    sim=SimulationCfg(dt=0.005, render_interval=4, physics=physics),
    scene=scene,
    observations=_observations(rough),
    actions=ActionsCfg(),
    commands=CommandsCfg(),
    rewards=RewardsCfg(),
    terminations=terminations,
    events=events,
    curriculum=curriculum,
  )
  # Contact forces every physics step (air time, stumbles), the scan once per control step.
  scene.contact_forces.update_period = cfg.sim.dt
  if scene.height_scanner is not None:
    scene.height_scanner.update_period = cfg.decimation * cfg.sim.dt
  if play:
    scene.num_envs = 32
    cfg.observations.policy.enable_corruption = False
    events.push_robot = None
    events.external_force_torque = None
    cfg.commands.base_velocity.resampling_time_range = (
      cfg.episode_length_s + 1.0,
      cfg.episode_length_s + 1.0,
    )
    # st_gym's play variant has no weight schedules (evaluation does not use the rewards)
    curriculum.alive_schedule = None
    curriculum.action_rate_l2_schedule = None
    curriculum.action_smoothness_2_schedule = None
    curriculum.dof_torques_l2_schedule = None
    curriculum.dof_acc_l2_schedule = None
    curriculum.contact_forces_schedule = None
    if rough:
      scene.terrain.max_init_terrain_level = None  # spawn anywhere on the grid
  return cfg


def flat_env_cfg() -> ManagerBasedRLEnvCfg:
  return g1_velocity_env_cfg(rough=False)


def flat_play_env_cfg() -> ManagerBasedRLEnvCfg:
  return g1_velocity_env_cfg(rough=False, play=True)


def rough_env_cfg() -> ManagerBasedRLEnvCfg:
  return g1_velocity_env_cfg(rough=True)


def rough_play_env_cfg() -> ManagerBasedRLEnvCfg:
  return g1_velocity_env_cfg(rough=True, play=True)
