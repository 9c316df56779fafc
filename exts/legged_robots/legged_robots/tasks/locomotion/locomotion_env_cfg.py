"""Base factory for velocity-tracking locomotion tasks (st_gym overview, sections 3.1-3.7).

``make_locomotion_env_cfg(robot, rough=..., play=...)`` builds everything a legged
robot shares: scene (terrain, robot, height scanner, contact sensors), observations,
actions, the base_velocity command, events, terminations and the terrain curriculum,
plus the reward terms every robot uses. Per-robot factories in ``tasks/config/<robot>``
add their reward terms and set weights, joint patterns and ranges.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from typing import Literal

from mjlab.entity import EntityCfg
from mjlab.envs import ManagerBasedRlEnvCfg
from mjlab.envs.mdp import dr
from mjlab.managers.curriculum_manager import CurriculumTermCfg
from mjlab.managers.event_manager import EventTermCfg
from mjlab.managers.observation_manager import ObservationGroupCfg, ObservationTermCfg
from mjlab.managers.reward_manager import RewardTermCfg
from mjlab.managers.scene_entity_config import SceneEntityCfg
from mjlab.managers.termination_manager import TerminationTermCfg
from mjlab.scene import SceneCfg
from mjlab.sensor import ContactMatch, ContactSensorCfg, GridPatternCfg, ObjRef, RayCastSensorCfg
from mjlab.sim import SimulationCfg
from mjlab.terrains import TerrainEntityCfg
from mjlab.terrains.config import ROUGH_TERRAINS_CFG
from mjlab.utils.noise import UniformNoiseCfg as Unoise
from mjlab.viewer import ViewerConfig

from legged_robots.tasks import mdp
from legged_robots.tasks.env import NON_FINITE_TERM

COMMAND = "base_velocity"
FEET_SENSOR = "feet_contact"
UNDESIRED_SENSOR = "undesired_contact"
HEIGHT_SENSOR = "height_scanner"


@dataclass(kw_only=True)
class LocomotionRobot:
  """What the base factory needs to know about a robot."""

  entity: EntityCfg
  """The robot entity (MJCF, actuators, initial state)."""
  action_scale: dict[str, float]
  """Joint-name pattern -> action scale (radians per unit action)."""
  base_body: str
  """Floating-base body (height scanner frame, viewer target)."""
  torso_body: str
  """Body that receives COM randomization and external wrenches."""
  foot_sites: tuple[str, ...]
  """One site per foot, used for foot velocities."""
  feet_contact: ContactMatch
  """Primary match of the feet contact sensor (one entry per foot)."""
  foot_geoms: tuple[str, ...]
  """Foot collision geoms (friction randomization, privileged friction)."""
  undesired_contact: ContactMatch
  """Bodies that should never touch the ground (only bodies with collision geoms: each
  matched body costs MuJoCo sensors that run in every physics step)."""
  undesired_fields: tuple[Literal["found", "force"], ...] = ("force",)
  """Contact fields the undesired-contact terms read; one MuJoCo sensor per body and field."""
  min_base_height: float
  """Terminate when the base falls below this height (m)."""
  sim: SimulationCfg
  """Solver settings (contact buffers, CCD) sized for this robot."""
  max_external_force: float = 20.0
  """Bound (N) of each component of the random force applied to the torso."""
  max_external_torque: float = 3.0
  """Bound (N m) of each component of the random torque applied to the torso."""
  velocity_ranges: dict[str, tuple[float, float]] = field(
    default_factory=lambda: {"lin_vel_x": (-1.0, 1.0), "lin_vel_y": (-0.5, 0.5), "ang_vel_z": (-1.0, 1.0)}
  )
  """Training ranges of the base_velocity command."""


def _ground_contact(
  name: str,
  primary: ContactMatch,
  fields: tuple[Literal["found", "force"], ...] = ("found", "force"),
  track_air_time: bool = False,
) -> ContactSensorCfg:
  """Net contact force between each ``primary`` body and the terrain."""
  return ContactSensorCfg(
    name=name,
    primary=primary,
    secondary=ContactMatch(mode="body", pattern="terrain"),
    fields=fields,
    reduce="netforce",
    num_slots=1,
    track_air_time=track_air_time,
  )


def _scene(robot: LocomotionRobot, rough: bool) -> SceneCfg:
  feet = _ground_contact(FEET_SENSOR, robot.feet_contact, track_air_time=True)
  undesired = _ground_contact(UNDESIRED_SENSOR, robot.undesired_contact, robot.undesired_fields)
  sensors: tuple = (feet, undesired)
  if rough:
    terrain = TerrainEntityCfg(
      terrain_type="generator",
      terrain_generator=replace(ROUGH_TERRAINS_CFG, curriculum=True),
      max_init_terrain_level=5,
    )
    sensors += (
      RayCastSensorCfg(
        name=HEIGHT_SENSOR,
        frame=ObjRef(type="body", name=robot.base_body, entity="robot"),
        ray_alignment="yaw",
        pattern=GridPatternCfg(size=(1.6, 1.0), resolution=0.1),
        max_distance=5.0,
        exclude_parent_body=True,
        include_geom_groups=(0,),
      ),
    )
  else:
    terrain = TerrainEntityCfg(terrain_type="plane")
  return SceneCfg(
    terrain=terrain, entities={"robot": robot.entity}, sensors=sensors, num_envs=4096, extent=2.0
  )


def _observations(robot: LocomotionRobot, rough: bool) -> dict[str, ObservationGroupCfg]:
  actor = {
    "base_ang_vel": ObservationTermCfg(func=mdp.base_ang_vel, noise=Unoise(n_min=-0.2, n_max=0.2)),
    "projected_gravity": ObservationTermCfg(
      func=mdp.projected_gravity, noise=Unoise(n_min=-0.05, n_max=0.05)
    ),
    "joint_pos": ObservationTermCfg(func=mdp.joint_pos_rel, noise=Unoise(n_min=-0.01, n_max=0.01)),
    "joint_vel": ObservationTermCfg(func=mdp.joint_vel_rel, noise=Unoise(n_min=-1.5, n_max=1.5)),
    "actions": ObservationTermCfg(func=mdp.last_action),
    "velocity_commands": ObservationTermCfg(func=mdp.generated_commands, params={"command_name": COMMAND}),
  }
  height_scan = ObservationTermCfg(
    func=mdp.height_scan, params={"sensor_name": HEIGHT_SENSOR}, scale=1 / 5.0, clip=(-1.0, 1.0)
  )
  if rough:
    actor["height_scan"] = replace(height_scan, noise=Unoise(n_min=-0.1, n_max=0.1))
  # The critic sees the noiseless state plus what a real robot cannot measure.
  critic = {
    "base_height": ObservationTermCfg(func=mdp.base_height),
    "base_quat": ObservationTermCfg(func=mdp.base_quat),
    "base_lin_vel": ObservationTermCfg(func=mdp.base_lin_vel),
    **{name: replace(term, noise=None) for name, term in actor.items()},
    "body_mass": ObservationTermCfg(func=mdp.body_mass),
    "feet_contact_forces": ObservationTermCfg(
      func=mdp.contact_forces, params={"sensor_name": FEET_SENSOR}, scale=0.01
    ),
    "joint_stiffness_damping": ObservationTermCfg(func=mdp.joint_stiffness_damping),
    "feet_friction": ObservationTermCfg(
      func=mdp.geom_friction,
      params={"asset_cfg": mdp.DeviceSceneEntityCfg("robot", geom_names=robot.foot_geoms)},
    ),
  }
  if rough:
    critic["height_scan"] = height_scan
  return {
    "actor": ObservationGroupCfg(terms=actor, concatenate_terms=True, enable_corruption=True),
    "critic": ObservationGroupCfg(terms=critic, concatenate_terms=True, enable_corruption=False),
  }


def _events(robot: LocomotionRobot) -> dict[str, EventTermCfg]:
  feet = SceneEntityCfg("robot", geom_names=robot.foot_geoms)
  torso = SceneEntityCfg("robot", body_names=(robot.torso_body,))
  return {
    "reset_base": EventTermCfg(
      func=mdp.reset_root_state_uniform,
      mode="reset",
      params={
        "pose_range": {"x": (-0.5, 0.5), "y": (-0.5, 0.5), "yaw": (-math.pi, math.pi)},
        "velocity_range": {"x": (-0.2, 0.2), "y": (-0.2, 0.2), "yaw": (-0.2, 0.2)},
      },
    ),
    "reset_robot_joints": EventTermCfg(
      func=mdp.reset_joints_by_offset,
      mode="reset",
      params={"position_range": (-0.05, 0.05), "velocity_range": (0.0, 0.0)},
    ),
    "physics_material": EventTermCfg(
      func=dr.geom_friction,
      mode="startup",
      params={"asset_cfg": feet, "ranges": (0.4, 1.2), "shared_random": True},
    ),
    "restitution": EventTermCfg(
      func=mdp.geom_restitution,
      mode="startup",
      params={"asset_cfg": feet, "dampratio_range": (0.8, 1.0)},
    ),
    # Mass and inertia scale together by e^(2 alpha): alpha in +-0.05 is about +-10 %.
    "reset_robot_rigid_body_mass": EventTermCfg(
      func=dr.pseudo_inertia, mode="startup", params={"alpha_range": (-0.05, 0.05)}
    ),
    "reset_robot_base_com": EventTermCfg(
      func=dr.body_com_offset,
      mode="startup",
      params={
        "asset_cfg": torso,
        "operation": "add",
        "ranges": {0: (-0.03, 0.03), 1: (-0.03, 0.03), 2: (-0.03, 0.03)},
      },
    ),
    "randomize_actuator_gains": EventTermCfg(
      func=dr.pd_gains, mode="startup", params={"kp_range": (0.9, 1.1), "kd_range": (0.9, 1.1)}
    ),
    "randomize_joint_friction": EventTermCfg(
      func=dr.joint_friction, mode="startup", params={"ranges": (0.0, 0.05), "operation": "abs"}
    ),
    "randomize_joint_armature": EventTermCfg(
      func=dr.joint_armature, mode="startup", params={"ranges": (0.9, 1.1), "operation": "scale"}
    ),
    "randomize_joint_limits": EventTermCfg(
      func=dr.joint_limits, mode="startup", params={"ranges": (0.98, 1.02), "operation": "scale"}
    ),
    "push_robot": EventTermCfg(
      func=mdp.push_by_setting_velocity,
      mode="interval",
      interval_range_s=(5.0, 10.0),
      params={"velocity_range": {"x": (-0.5, 0.5), "y": (-0.5, 0.5)}},
    ),
    "external_force_torque": EventTermCfg(
      func=mdp.apply_body_impulse,
      mode="step",
      params={
        "asset_cfg": mdp.DeviceSceneEntityCfg("robot", body_names=(robot.torso_body,)),
        "force_range": (-robot.max_external_force, robot.max_external_force),
        "torque_range": (-robot.max_external_torque, robot.max_external_torque),
        "duration_s": (0.1, 0.5),
        "cooldown_s": (4.0, 8.0),
      },
    ),
  }


def _common_rewards(robot: LocomotionRobot) -> dict[str, RewardTermCfg]:
  feet_sites = mdp.DeviceSceneEntityCfg("robot", site_names=robot.foot_sites)
  return {
    "termination_penalty": RewardTermCfg(func=mdp.is_terminated, weight=-200.0),
    "track_lin_vel_xy_exp": RewardTermCfg(
      func=mdp.track_lin_vel_xy_exp, weight=1.0, params={"command_name": COMMAND, "std": 0.5}
    ),
    "track_ang_vel_z_exp": RewardTermCfg(
      func=mdp.track_ang_vel_z_exp, weight=0.5, params={"command_name": COMMAND, "std": 0.5}
    ),
    "feet_slide": RewardTermCfg(
      func=mdp.feet_slip,
      weight=-0.1,
      params={"sensor_name": FEET_SENSOR, "command_name": COMMAND, "asset_cfg": feet_sites},
    ),
    "undesired_contacts": RewardTermCfg(
      func=mdp.undesired_contacts, weight=-1.0, params={"sensor_name": UNDESIRED_SENSOR, "threshold": 1.0}
    ),
    "action_rate_l2": RewardTermCfg(func=mdp.action_rate_l2, weight=-0.01),
    "dof_acc_l2": RewardTermCfg(func=mdp.joint_acc_l2, weight=-2.5e-7),
    "dof_torques_l2": RewardTermCfg(func=mdp.joint_torques_l2, weight=-1e-5),
    "dof_pos_limits": RewardTermCfg(func=mdp.joint_pos_limits, weight=-1.0),
    "flat_orientation_l2": RewardTermCfg(func=mdp.flat_orientation_l2, weight=-1.0),
  }


def _terminations(robot: LocomotionRobot, rough: bool) -> dict[str, TerminationTermCfg]:
  terms = {
    "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
    "base_height": TerminationTermCfg(
      func=mdp.root_height_below_minimum, params={"minimum_height": robot.min_base_height}
    ),
    "bad_orientation": TerminationTermCfg(func=mdp.bad_orientation, params={"limit_angle": 1.0}),
    # NaN/Inf physics state: this env's episode ends, training goes on (tasks/env.py).
    NON_FINITE_TERM: TerminationTermCfg(func=mdp.nan_detection, time_out=True),
  }
  if rough:
    terms["out_of_terrain_bounds"] = TerminationTermCfg(func=mdp.out_of_terrain_bounds, time_out=True)
  return terms


def make_locomotion_env_cfg(
  robot: LocomotionRobot, *, rough: bool, play: bool = False, latency_steps: tuple[int, int] = (0, 1)
) -> ManagerBasedRlEnvCfg:
  """Velocity-tracking env cfg for ``robot`` on rough (generator) or flat terrain.

  ``play=True`` gives the evaluation variant: 32 envs, no observation noise, no pushes
  or external wrenches, one command per episode drawn from the training ranges.
  """
  command = mdp.UniformVelocityCommandCfg(
    entity_name="robot",
    resampling_time_range=(5.0, 10.0),
    rel_standing_envs=0.05,
    rel_heading_envs=0.3,
    heading_command=True,
    heading_control_stiffness=0.5,
    debug_vis=True,
    ranges=mdp.UniformVelocityCommandCfg.Ranges(**robot.velocity_ranges, heading=(-math.pi, math.pi)),
  )
  cfg = ManagerBasedRlEnvCfg(
    scene=_scene(robot, rough),
    observations=_observations(robot, rough),
    actions={
      "joint_pos": mdp.DelayedJointPositionActionCfg(
        entity_name="robot",
        actuator_names=(".*",),
        scale=dict(robot.action_scale),
        use_default_offset=True,
        latency_steps=latency_steps,
      )
    },
    commands={COMMAND: command},
    events=_events(robot),
    rewards=_common_rewards(robot),
    terminations=_terminations(robot, rough),
    curriculum={},
    viewer=ViewerConfig(
      origin_type=ViewerConfig.OriginType.ASSET_BODY,
      entity_name="robot",
      body_name=robot.base_body,
      distance=3.0,
      elevation=-5.0,
      azimuth=90.0,
    ),
    sim=copy.deepcopy(robot.sim),
    decimation=4,
    episode_length_s=20.0,
  )
  if rough:
    cfg.curriculum["terrain_levels"] = CurriculumTermCfg(
      func=mdp.terrain_levels_vel, params={"command_name": COMMAND}
    )
  if play:
    cfg.scene.num_envs = 32
    cfg.observations["actor"].enable_corruption = False
    cfg.events.pop("push_robot")
    cfg.events.pop("external_force_torque")
    command.resampling_time_range = (cfg.episode_length_s + 1.0, cfg.episode_length_s + 1.0)
    cfg.curriculum.pop("terrain_levels", None)
    if rough and cfg.scene.terrain is not None and cfg.scene.terrain.terrain_generator is not None:
      cfg.scene.terrain.terrain_generator.curriculum = False
      cfg.events["randomize_terrain"] = EventTermCfg(func=mdp.randomize_terrain, mode="reset")
  return cfg
