"""``MotionCommand``: a reference clip and a time per env, advanced with the env step.

Timing (tested with hand-computed frame indices): ``time`` is the clip time of the frame
the robot should reach at the end of the *next* control step.

- reset: a clip is drawn by weight and a start time t0 (a whole number of control
  steps: uniform when ``random_start``, else 0); the robot's state at t0 is written into
  the sim (``init``); ``time = t0 + dt``, so the first observation shows frame t0 + dt;
- step: physics moves the robot towards frame ``time``; rewards and terminations compare
  the new state with that frame (``reference``); then ``time += dt`` and observations
  show the next frame.

The reference is sampled once per step into ``reference`` (all envs, after the update),
so a reset env never shows its previous episode's frame. ``command`` is st_gym's
``ExpressiveCommand``: the goal positions (relative to the default pose) and velocities
of the mimicked joints, ``(num_envs, 2 * num_mimicked)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
from mjlab.managers.command_manager import CommandTerm, CommandTermCfg

from legged_robots.tasks.errors import TermCfgError
from legged_robots.tasks.mdp.motion_sampling import FailureAdaptiveSampler
from legged_robots.tasks.motion import motion_library

if TYPE_CHECKING:
  from mjlab.entity import Entity
  from mjlab.envs import ManagerBasedRlEnv


def resolve_joints(asset: Entity, patterns: tuple[str, ...], what: str) -> list[int]:
  """Entity joint ids matched by any of ``patterns`` (entity order); none is an error."""
  ids = [i for i, name in enumerate(asset.joint_names) if any(re.fullmatch(p, name) for p in patterns)]
  if not ids:
    raise TermCfgError(
      f"{what}: joint patterns {list(patterns)} match no joint; joints: {list(asset.joint_names)}"
    )
  return ids


@dataclass(kw_only=True)
class MotionCommandCfg(CommandTermCfg):
  """A reference clip per env (``env.motion``), served as goals, rewards' and terminations' reference."""

  entity_name: str = "robot"
  joint_names: tuple[str, ...] = (".*",)
  """Mimicked joints (regex patterns): the goal of ``command``."""
  random_start: bool = True
  """Start each episode at a random whole control step of the clip (st_gym's ``random_start``)."""
  init: Literal["none", "mimicked_joints", "full"] = "mimicked_joints"
  """What the reset writes from the start frame: nothing, the mimicked joints, or root + all joints."""
  loop: bool = True
  """Wrap the clip time (mimic while walking); False holds the last frame."""
  adaptive_sampling: bool = False
  """Draw start times where episodes failed (BeyondMimic's adaptive sampling, for tracking)."""
  adaptive_bin_s: float = 1.0
  adaptive_alpha: float = 0.8
  """Share of the start-bin probability given by failure counts (the rest is uniform)."""
  resampling_time_range: tuple[float, float] = (1.0e9, 1.0e9)
  """A clip is kept for the whole episode."""

  def build(self, env: ManagerBasedRlEnv) -> MotionCommand:
    return MotionCommand(self, env)


class MotionCommand(CommandTerm):
  cfg: MotionCommandCfg

  def __init__(self, cfg: MotionCommandCfg, env: ManagerBasedRlEnv):
    super().__init__(cfg, env)
    self.library = motion_library(env)
    self.asset: Entity = env.scene[cfg.entity_name]
    self.joint_ids = resolve_joints(self.asset, tuple(cfg.joint_names), "MotionCommand")
    self.step_dt = env.step_dt
    self.clip_ids = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
    self.time = torch.full((self.num_envs,), self.step_dt, device=self.device)
    self._dt: float | torch.Tensor = 0.0
    self.root_offset = torch.zeros(self.num_envs, 3, device=self.device)
    """World translation of each env's clip: its start frame's x, y put on the env origin."""
    self.sampler = (
      FailureAdaptiveSampler(self.library.duration, cfg.adaptive_bin_s, cfg.adaptive_alpha)
      if cfg.adaptive_sampling
      else None
    )
    self.reference = self.sample(self.time)
    self.metrics["joint_pos_error"] = torch.zeros(self.num_envs, device=self.device)

  def sample(self, time: torch.Tensor) -> dict[str, torch.Tensor]:
    """Reference states of every env's clip at ``time`` (s)."""
    return self.library.sample(self.clip_ids, time, loop=self.cfg.loop)

  @property
  def reference_root_pos_w(self) -> torch.Tensor:
    """The reference root position in the world (the clip moved by ``root_offset``)."""
    return self.reference["root_pos"] + self.root_offset

  def goal(self, reference: dict[str, torch.Tensor]) -> torch.Tensor:
    default = self.asset.data.default_joint_pos[:1, self.joint_ids]  # the same for every env
    ids = self.joint_ids
    return torch.cat([reference["joint_pos"][:, ids] - default, reference["joint_vel"][:, ids]], dim=1)

  def clip_frames(self, num_steps: int, clip_id: int = 0) -> dict[str, torch.Tensor]:
    """Clip ``clip_id`` at clip times 0, dt, ..., num_steps * dt as an episode from clip time
    0 sees it (deployment): root and links moved so that frame 0's root x, y is on the origin."""
    times = torch.arange(num_steps + 1, device=self.device, dtype=torch.float32) * self.step_dt
    ids = torch.full_like(times, clip_id, dtype=torch.long)
    state = self.library.sample(ids, times, loop=self.cfg.loop)
    shift = planar(state["root_pos"][:1])
    state["root_pos"] = state["root_pos"] - shift
    if "body_pos_w" in state:
      state["body_pos_w"] = state["body_pos_w"] - shift.unsqueeze(1)
    return state

  def goal_table(self, num_steps: int, clip_id: int = 0) -> torch.Tensor:
    """Goals of clip ``clip_id`` at clip times 0, dt, ..., num_steps * dt (deployment replay)."""
    return self.goal(self.clip_frames(num_steps, clip_id))

  def start_frame(self, clip_id: int = 0) -> dict[str, torch.Tensor]:
    """Clip ``clip_id``'s frame 0 as an episode from clip time 0 starts it (``clip_frames``)."""
    return {k: v[:1] for k, v in self.clip_frames(0, clip_id).items()}

  @property
  def command(self) -> torch.Tensor:
    return self.goal(self.reference)

  def compute(self, dt: float | torch.Tensor, env_ids: torch.Tensor | None = None) -> None:
    self._dt = dt  # _update_command advances the clip time by it (0 for freshly reset envs)
    super().compute(dt, env_ids)

  def _update_command(self, env_ids: torch.Tensor | None) -> None:
    if env_ids is None:
      self.time += self._dt
    self.reference = self.sample(self.time)

  def _resample_command(self, env_ids: torch.Tensor) -> None:
    if self.sampler is not None:  # the ending episodes: where did they fail?
      failed = self._env.termination_manager.terminated[env_ids]
      self.sampler.record(self.clip_ids[env_ids], self.time[env_ids] - self.step_dt, failed)
    clip_ids = self.library.sample_clip_ids(len(env_ids))
    self.clip_ids[env_ids] = clip_ids
    steps = torch.zeros(len(env_ids), device=self.device)
    if self.cfg.random_start:
      if self.sampler is not None:
        steps = torch.floor(self.sampler.sample_times(clip_ids) / self.step_dt)
      else:
        last = torch.floor(self.library.duration[clip_ids] / self.step_dt)
        steps = torch.floor(torch.rand(len(env_ids), device=self.device) * (last + 1))
    start = steps * self.step_dt
    self.time[env_ids] = start + self.step_dt
    if self.cfg.init != "none":
      self._write_start_state(env_ids, self.library.sample(clip_ids, start, loop=self.cfg.loop))

  def _write_start_state(self, env_ids: torch.Tensor, state: dict[str, torch.Tensor]) -> None:
    data = self.asset.data
    joint_pos, joint_vel = data.joint_pos[env_ids].clone(), data.joint_vel[env_ids].clone()
    cols = self.joint_ids if self.cfg.init == "mimicked_joints" else slice(None)
    joint_pos[:, cols] = state["joint_pos"][:, cols]
    joint_vel[:, cols] = state["joint_vel"][:, cols]
    self.asset.write_joint_state_to_sim(joint_pos, joint_vel, env_ids=env_ids)
    if self.cfg.init == "full":
      origin = self._env.scene.env_origins[env_ids]
      self.root_offset[env_ids] = origin - planar(state["root_pos"])
      pos = state["root_pos"] + self.root_offset[env_ids]
      pose = torch.cat([pos, state["root_quat"]], dim=1)
      vel = torch.cat([state["root_lin_vel_w"], state["root_ang_vel_w"]], dim=1)
      self.asset.write_root_link_pose_to_sim(pose, env_ids=env_ids)
      self.asset.write_root_link_velocity_to_sim(vel, env_ids=env_ids)

  def _update_metrics(self) -> None:
    ids = self.joint_ids
    error = (self.asset.data.joint_pos[:, ids] - self.reference["joint_pos"][:, ids]).abs().mean(dim=1)
    self.metrics["joint_pos_error"] = error


def planar(pos: torch.Tensor) -> torch.Tensor:
  """(N, 3) positions with z set to 0."""
  return torch.nn.functional.pad(pos[:, :2], (0, 1))
