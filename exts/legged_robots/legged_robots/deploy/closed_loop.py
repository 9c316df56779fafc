"""Closed loop in native MuJoCo: the policy at the control rate, physics at the MJCF rate.

``ClosedLoop.step(command)`` runs one control period: read the (delayed, noisy) robot
state, run the policy, apply the (delayed) joint targets for ``decimation`` physics steps.
``run_closed_loop`` drives it over a command schedule and scores the run:

- fall: tilt of the base z axis from vertical > 1 rad (the training bad_orientation
  limit) or base height < 50 % of the starting height; the run stops at the fall;
- tracking: |v_xy - cmd_xy| (m/s) and |w_z - cmd_wz| (rad/s), base frame as in training,
  from ``warmup_s`` on;
- torques: mean |tau| and max |tau| per joint over every physics step;
- foot slip: horizontal speed of each body touching the ground, per control step;
- tracking (motion tasks whose export names the goal joints): mean joint and link position
  errors against the replayed reference (``motion_goals.TrackingErrors``);
- a NaN/inf action stops the run; the actuators keep the last good targets.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from legged_robots.deploy.errors import DeployError, NonFiniteActionError
from legged_robots.deploy.ghost import Ghost
from legged_robots.deploy.motion_goals import GoalReplay, TrackingErrors, load_reference, load_start_state
from legged_robots.deploy.mujoco_sim import (
  ModelEdits,
  TrackingRenderer,
  base_height,
  build_sim,
  read_state,
  reset_to_default,
  reset_to_start,
)
from legged_robots.deploy.observations import RobotState
from legged_robots.deploy.perturbations import Perturbations, SensorNoise
from legged_robots.deploy.runtime import PolicyRuntime

__all__ = [
  "HEIGHT_FRACTION",
  "TILT_LIMIT_RAD",
  "VELOCITY_RANGES",
  "ClosedLoop",
  "ClosedLoopResult",
  "Perturbations",
  "SensorNoise",
  "StepInfo",
  "VideoSink",
  "check_commands",
  "command_at",
  "frame_stride",
  "run_closed_loop",
  "velocity_command_name",
]

TILT_LIMIT_RAD = 1.0
HEIGHT_FRACTION = 0.5
VELOCITY_RANGES = ("lin_vel_x", "lin_vel_y", "ang_vel_z")


def command_at(schedule: Sequence[tuple[float, Sequence[float]]], t: float) -> np.ndarray:
  """Piecewise-constant schedule [(t0, cmd0), (t1, cmd1), ...]; before t0 the command is zero."""
  value = np.zeros(3)
  for start, cmd in schedule:
    if t + 1e-9 >= start:
      value = np.asarray(cmd, dtype=np.float64)
  return value


def velocity_command_name(runtime: PolicyRuntime) -> str | None:
  """The contract's (vx, vy, wz) command: the first one with the three velocity ranges."""
  for cmd in runtime.contract.commands:
    if all(r in cmd.ranges for r in VELOCITY_RANGES):
      return cmd.name
  return None


@dataclass
class StepInfo:
  """What one control step measured (true state, not the noisy one the policy saw)."""

  t: float
  command: np.ndarray
  velocity: np.ndarray
  """(vx, vy, wz) of the base in the base frame."""
  height: float
  tilt: float
  torque: np.ndarray
  """|tau| per joint, max over the physics steps of this control step."""
  slip: list[float]


class ClosedLoop:
  """One robot in MuJoCo driven by a PolicyRuntime, with perturbations."""

  def __init__(
    self, runtime: PolicyRuntime, mjcf: str | Path, perturbations: Perturbations | None = None, seed: int = 0
  ):
    self.runtime = runtime
    self.p = perturbations or Perturbations()
    self.p.check()
    c = runtime.contract
    edits = ModelEdits(self.p.friction_scale, self.p.added_base_mass_kg, self.p.motor_strength)
    self.robot = build_sim(mjcf, c, edits)
    self.model = self.robot.model
    self.data = mujoco.MjData(self.model)
    self.rng = np.random.default_rng(seed)
    self.command_name = velocity_command_name(runtime)
    self.replay = GoalReplay(runtime.folder, c, self.command_name)
    """Motion goals (and the clip base velocity added to the command) of each control step."""
    self.start = load_start_state(runtime.folder, c)
    """Whole-body tracking: the clip frame training episodes start in (None: default pose)."""
    self.reference = load_reference(runtime.folder, c)
    """Motion tasks: what the replayed goals stand for, to score the run (None: not scored)."""
    self.scan_size = next((t.size for t in c.observations if t.func.endswith(":height_scan")), 0)
    self._states: deque[RobotState] = deque(maxlen=self.p.obs_latency_steps + 1)
    self._targets: deque[np.ndarray] = deque(maxlen=self.p.action_latency_steps + 1)
    self.reset()

  def reset(self) -> None:
    """Back to the start pose at t = 0 (the default pose, or the clip's first frame for a
    full-state motion command): runtime memory, latency queues and statistics cleared."""
    c = self.runtime.contract
    if self.start is None:
      self.start_height = reset_to_default(self.robot, self.data, c)
    else:
      self.start_height = reset_to_start(self.robot, self.data, self.start)
    self.runtime.reset()
    self.t = 0.0
    self.steps = 0
    self._next_push = self.p.push_interval_s
    self._states.clear()
    self._targets.clear()
    self.torque_sum = np.zeros(len(c.joint_names))
    self.torque_max = np.zeros(len(c.joint_names))
    self.physics_steps = 0
    self.tracking = None
    if self.reference is not None:
      adr = dict(zip(c.joint_names, self.robot.qpos_adr.tolist(), strict=True))
      self.tracking = TrackingErrors(self.reference, self.model, adr, self.robot.root_qpos_adr)

  def _measure(self) -> RobotState:
    state = read_state(self.robot, self.data)
    if self.scan_size:
      # Flat ground: every vertical ray from the base frame hits z = 0 (yaw-aligned scanner).
      state.height_scan = np.full(self.scan_size, base_height(self.robot, self.data))
    n, rng = self.p.noise, self.rng
    state.base_ang_vel = state.base_ang_vel + rng.normal(0, n.base_ang_vel, 3)
    state.base_lin_vel = state.base_lin_vel + rng.normal(0, n.base_lin_vel, 3)
    state.joint_pos = state.joint_pos + rng.normal(0, n.joint_pos, state.joint_pos.shape)
    state.joint_vel = state.joint_vel + rng.normal(0, n.joint_vel, state.joint_vel.shape)
    if n.base_orientation > 0:
      tilt = np.zeros(4)
      mujoco.mju_axisAngle2Quat(tilt, *_axis_angle(rng.normal(0, n.base_orientation, 3)))
      noisy = np.zeros(4)
      mujoco.mju_mulQuat(noisy, state.base_quat, tilt)
      state.base_quat = noisy
    return state

  def _maybe_push(self) -> None:
    if self.p.push_interval_s <= 0 or self.t + 1e-9 < self._next_push:
      return
    v = self.robot.root_dof_adr
    self.data.qvel[v : v + 2] += self.rng.uniform(-self.p.push_max_vel, self.p.push_max_vel, 2)
    self._next_push += self.p.push_interval_s

  def step(self, command: np.ndarray) -> StepInfo:
    """One control period; raises NonFiniteActionError (ctrl keeps the last good targets)."""
    given = self.replay.apply(self.runtime, self.steps, command)
    command = command if given is None else given
    self._states.append(self._measure())
    q_ref = self.runtime.step(self._states[0])  # oldest = obs_latency_steps old once full
    if not self._targets:  # nothing older yet: the first target fills the latency queue
      self._targets.extend([q_ref] * self.p.action_latency_steps)
    self._targets.append(q_ref)
    self.data.ctrl[:] = self._targets[0]
    step_max = np.zeros_like(self.torque_max)
    for _ in range(self.runtime.contract.decimation):
      mujoco.mj_step(self.model, self.data)
      force = np.abs(self.data.actuator_force)
      self.torque_sum += force
      np.maximum(step_max, force, out=step_max)
    np.maximum(self.torque_max, step_max, out=self.torque_max)
    self.physics_steps += self.runtime.contract.decimation
    self.t += self.runtime.contract.step_dt
    self.steps += 1
    if self.tracking is not None:
      self.tracking.add(self.data, self.steps)
    self._maybe_push()
    true = read_state(self.robot, self.data)
    velocity = np.array([true.base_lin_vel[0], true.base_lin_vel[1], true.base_ang_vel[2]])
    up_z = 1.0 - 2.0 * (true.base_quat[1] ** 2 + true.base_quat[2] ** 2)  # R[2, 2]
    return StepInfo(
      self.t,
      np.asarray(command, dtype=np.float64),
      velocity,
      base_height(self.robot, self.data),
      float(np.arccos(np.clip(up_z, -1.0, 1.0))),
      step_max,
      self._ground_slip(),
    )

  def _ground_slip(self) -> list[float]:
    """Horizontal speed of each body touching the ground (contacts of the last physics step)."""
    bodies = set()
    for i in range(self.data.ncon):
      g1, g2 = self.data.contact.geom1[i], self.data.contact.geom2[i]
      if self.robot.ground_geom in (g1, g2):
        bodies.add(int(self.model.geom_bodyid[g2 if g1 == self.robot.ground_geom else g1]))
    vel = np.zeros(6)
    speeds = []
    for body in sorted(bodies):
      mujoco.mj_objectVelocity(self.model, self.data, mujoco.mjtObj.mjOBJ_XBODY, body, vel, 0)
      speeds.append(float(np.hypot(vel[3], vel[4])))
    return speeds


def _axis_angle(rotvec: np.ndarray) -> tuple[np.ndarray, float]:
  angle = float(np.linalg.norm(rotvec))
  return (rotvec / angle if angle > 0 else np.array([1.0, 0.0, 0.0])), angle


@dataclass
class ClosedLoopResult:
  metrics: dict[str, Any]
  """JSON-ready summary (see the module docstring)."""
  traces: dict[str, np.ndarray]
  """Per control step: t, command (3), velocity (3), height, tilt, torque (n), slip_max."""


class VideoSink:
  """Renders frames of a tracking camera and hands them to ``write(frame)``."""

  def __init__(
    self,
    write: Callable[[np.ndarray], None],
    fps: float,
    width: int = 640,
    height: int = 360,
    ghost: Ghost | None = None,
    visual_mjcf: Path | None = None,
  ):
    self.write, self.fps, self.width, self.height = write, fps, width, height
    self.ghost = ghost
    """A translucent reference robot drawn beside the policy (``deploy.ghost``)."""
    self.visual_mjcf = visual_mjcf
    """The robot's asset MJCF whose meshes are drawn instead of its collision geoms
    (``deploy.visual.find_visual_mjcf``); None shows the collision geoms."""


def frame_stride(step_dt: float, fps: float) -> int:
  """Control steps per video frame; the video's true rate is 1 / (stride * step_dt)."""
  return max(1, round(1.0 / (fps * step_dt)))


def check_commands(runtime: PolicyRuntime, command_schedule: Sequence[tuple[float, Sequence[float]]]) -> None:
  """A nonzero command needs a policy with a (vx, vy, wz) velocity command, and every command
  must lie in the ranges the policy was trained on (deploy.yaml)."""
  name = velocity_command_name(runtime)
  if name is None:
    if any(np.any(cmd) for _, cmd in command_schedule):
      raise DeployError("the policy has no (vx, vy, wz) velocity command; run it with a zero command")
    return
  ranges = next(c.ranges for c in runtime.contract.commands if c.name == name)
  for t, cmd in command_schedule:
    for value, key in zip(cmd, VELOCITY_RANGES, strict=True):
      low, high = ranges[key]
      if not low - 1e-9 <= value <= high + 1e-9:  # NaN fails too
        raise DeployError(
          f"schedule command {list(cmd)} at t={t} s: {key}={value} is outside the training range "
          f"[{low}, {high}]; use commands inside the ranges in deploy.yaml"
        )


def check_schedule(loop: ClosedLoop, command_schedule: Sequence[tuple[float, Sequence[float]]]) -> None:
  """``check_commands`` for the loop's policy."""
  check_commands(loop.runtime, command_schedule)


def run_closed_loop(
  runtime: PolicyRuntime,
  mjcf: str | Path,
  duration_s: float,
  command_schedule: Sequence[tuple[float, Sequence[float]]],
  perturbations: Perturbations | None = None,
  seed: int = 0,
  video: VideoSink | None = None,
  warmup_s: float = 1.0,
  progress: Callable[[StepInfo], None] | None = None,
) -> ClosedLoopResult:
  """Run for duration_s (or until a fall or a NaN action) and score the run."""
  loop = ClosedLoop(runtime, mjcf, perturbations, seed)
  check_schedule(loop, command_schedule)
  renderer = (
    None if video is None else TrackingRenderer(loop.robot, video.width, video.height, video.visual_mjcf)
  )
  stride = 1 if video is None else frame_stride(runtime.contract.step_dt, video.fps)
  steps, status, nan_at = [], "survived", None
  n_steps = round(duration_s / runtime.contract.step_dt)
  try:
    for k in range(n_steps):
      try:
        info = loop.step(command_at(command_schedule, loop.t))
      except NonFiniteActionError:
        status, nan_at = "nan_action", loop.t
        break
      steps.append(info)
      if renderer is not None and video is not None and k % stride == 0:
        video.write(renderer.frame(loop.data, video.ghost, loop.t))
      if progress is not None:
        progress(info)
      if info.tilt > TILT_LIMIT_RAD or info.height < HEIGHT_FRACTION * loop.start_height:
        status = "fell"
        break
  finally:
    if renderer is not None:
      renderer.close()
  return _score(loop, steps, status, nan_at, duration_s, warmup_s, perturbations or Perturbations(), seed)


def _score(loop, steps, status, nan_at, duration_s, warmup_s, perturbations, seed) -> ClosedLoopResult:
  c = loop.runtime.contract
  traces: dict[str, np.ndarray] = {
    "t": np.array([s.t for s in steps]),
    "command": np.array([s.command for s in steps]).reshape(-1, 3),
    "velocity": np.array([s.velocity for s in steps]).reshape(-1, 3),
    "height": np.array([s.height for s in steps]),
    "tilt": np.array([s.tilt for s in steps]),
    "torque": np.array([s.torque for s in steps]).reshape(-1, len(c.joint_names)),
    "slip_max": np.array([max(s.slip, default=0.0) for s in steps]),
  }
  tracked = traces["t"] >= warmup_s
  err_xy = np.linalg.norm(traces["velocity"][tracked, :2] - traces["command"][tracked, :2], axis=1)
  err_yaw = np.abs(traces["velocity"][tracked, 2] - traces["command"][tracked, 2])
  slips = np.array([v for s in steps for v in s.slip])
  physics = max(loop.physics_steps, 1)

  def stat(values: np.ndarray, fn) -> float | None:
    return float(fn(values)) if values.size else None

  metrics = {
    "status": status,
    "survived": status == "survived",
    "fall_rule": f"tilt > {TILT_LIMIT_RAD} rad or base height < {HEIGHT_FRACTION:.0%} of start",
    "duration_s": duration_s,
    "time_survived_s": float(loop.t),
    "nan_action_at_s": nan_at,
    "start_height_m": loop.start_height,
    "final_base_xy_m": loop.data.qpos[loop.robot.root_qpos_adr : loop.robot.root_qpos_adr + 2].tolist(),
    "warmup_s": warmup_s,
    "lin_vel_xy_error_mean": stat(err_xy, np.mean),
    "lin_vel_xy_error_max": stat(err_xy, np.max),
    "ang_vel_z_error_mean": stat(err_yaw, np.mean),
    "ang_vel_z_error_max": stat(err_yaw, np.max),
    "torque_abs_mean": dict(zip(c.joint_names, (loop.torque_sum / physics).tolist(), strict=True)),
    "torque_abs_max": dict(zip(c.joint_names, loop.torque_max.tolist(), strict=True)),
    "foot_slip_mean": stat(slips, np.mean),
    "foot_slip_max": stat(slips, np.max),
    "perturbations": asdict(perturbations),
    "seed": seed,
    "passive_joints": loop.robot.passive_joints,
    "height_scan": "flat ground (base height on every ray)" if loop.scan_size else None,
    "tracking": None if loop.tracking is None else loop.tracking.summary(),
  }
  return ClosedLoopResult(metrics, traces)
