"""The ROS 2 node's logic without ROS: latest inputs -> supervisor -> policy -> motor command.

The node hands every message to one of the ``on_*`` methods (with the receive time of a
monotonic clock) and calls ``tick`` at the control rate. A message that cannot be used
(a missing joint, NaN in a command) is kept as an input problem: no soft start while it
lasts, DAMPING if it arrives in SOFT_START or RUNNING.

Motion-conditioned policies replay their goal tables as sim2mujoco does (``GoalReplay``):
policy step k of RUNNING shows goal row k + 1, counted from 0 at every entry into RUNNING
(SOFT_START and DAMPING run no policy and advance no row); the clip's base velocity is added
to the operator's command when the contract says so. A full-state (tracking) table starts
training episodes in the clip's first frame, which a real robot cannot be put in: such a
contract is refused unless ``accept_start_pose_mismatch``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from legged_robots.deploy.errors import DeployError
from legged_robots.deploy.motion_goals import GoalReplay, load_start_state
from legged_robots.deploy.observations import RobotState
from legged_robots.deploy.ros2.inputs import InputError, JointNameMap, VelocityCommand
from legged_robots.deploy.ros2.supervisor import (
  Measurement,
  MotorCommand,
  Supervisor,
  SupervisorConfig,
  SupervisorState,
)
from legged_robots.deploy.runtime import PolicyRuntime

_OBS = "mjlab.envs.mdp.observations"


@dataclass
class _Sample:
  values: tuple[np.ndarray, ...]
  stamp: float | None
  """Header stamp (s, the sender's clock), for latency only."""
  received: float
  """Monotonic receive time, for staleness."""


class Controller:
  """Supervisor + PolicyRuntime fed by the latest messages; one ``tick`` per control period."""

  def __init__(
    self,
    runtime: PolicyRuntime,
    config: SupervisorConfig,
    lower: np.ndarray,
    upper: np.ndarray,
    kp: Sequence[float] | None = None,
    kd: Sequence[float] | None = None,
    extra_joints: Sequence[str] = (),
    cmd_timeout_s: float = 0.5,
    accept_start_pose_mismatch: bool = False,
  ):
    c = runtime.contract
    funcs = [t.func for t in c.observations]
    if f"{_OBS}:height_scan" in funcs:
      raise DeployError("the policy observes a height scan, which the ROS 2 node does not provide")
    if not accept_start_pose_mismatch:
      check_start_pose(runtime)
    self.runtime = runtime
    self.needs_lin_vel = f"{_OBS}:base_lin_vel" in funcs
    self.joints = JointNameMap(c.joint_names, extra_joints)
    self.velocity = VelocityCommand.of(c)
    self.cmd_timeout_s = cmd_timeout_s
    self.supervisor = Supervisor(
      config, c.joint_names, np.asarray(c.default_joint_pos),
      np.asarray(c.stiffness if kp is None else kp), np.asarray(c.damping if kd is None else kd),
      lower, upper, c.step_dt,
    )  # fmt: skip
    self.replay = GoalReplay(runtime.folder, c, None if self.velocity is None else self.velocity.name)
    self._policy = _RuntimePolicy(runtime, self.replay)
    self._inputs: dict[str, _Sample] = {}
    self.problems: dict[str, str] = {}
    """Current problem of each input (cleared by its next good message)."""
    self.command = np.zeros(3)
    self.command_clamped = False
    self._command_received: float | None = None
    self.state_stamp: float | None = None
    """Header stamp of the joint state the last command was computed from."""

  @property
  def required(self) -> list[str]:
    return ["joint_states", "imu"] + (["odom"] if self.needs_lin_vel else [])

  # --- inputs -------------------------------------------------------------------------

  def _store(self, key: str, values: tuple[np.ndarray, ...], stamp: float | None, now: float) -> None:
    self._inputs[key] = _Sample(values, stamp, now)
    self.problems.pop(key, None)

  def on_joint_state(
    self,
    names: Sequence[str],
    position: ArrayLike,
    velocity: ArrayLike,
    stamp: float | None,
    now: float,
  ) -> None:
    try:
      self._store("joint_states", self.joints.reorder(names, position, velocity), stamp, now)
    except InputError as e:
      self.problems["joint_states"] = str(e)

  def on_imu(self, quat_wxyz: ArrayLike, gyro: ArrayLike, stamp: float | None, now: float) -> None:
    self._store(
      "imu", (np.asarray(quat_wxyz, dtype=np.float64), np.asarray(gyro, dtype=np.float64)), stamp, now
    )

  def on_odometry(self, lin_vel_base: ArrayLike, stamp: float | None, now: float) -> None:
    self._store("odom", (np.asarray(lin_vel_base, dtype=np.float64),), stamp, now)

  def on_velocity_command(self, value: ArrayLike, now: float) -> None:
    """Clamped to the contract's ranges; NaN/inf is refused (the command becomes zero)."""
    if self.velocity is None:
      return
    try:
      self.command, self.command_clamped = self.velocity.clamp(value)
      self.problems.pop("cmd_vel", None)
    except InputError as e:
      self.command, self.command_clamped = np.zeros(3), False
      self.problems["cmd_vel"] = str(e)
    self._command_received = now

  def input_problem(self, key: str, message: str) -> None:
    self.problems[key] = message

  # --- control ------------------------------------------------------------------------

  def measurement(self, now: float) -> tuple[Measurement | None, str | None]:
    """The latest complete state, or None and what is missing or wrong."""
    state_problems = [f"{k}: {v}" for k, v in self.problems.items() if k != "cmd_vel"]
    if state_problems:
      return None, "; ".join(state_problems)
    missing = [k for k in self.required if k not in self._inputs]
    if missing:
      return None, f"waiting for {', '.join(missing)}"
    q, dq = self._inputs["joint_states"].values
    quat, gyro = self._inputs["imu"].values
    lin_vel = self._inputs["odom"].values[0] if self.needs_lin_vel else None
    ages = {k: now - self._inputs[k].received for k in self.required}
    self.state_stamp = self._inputs["joint_states"].stamp
    return Measurement(q, dq, quat, gyro, lin_vel, ages), None

  def _policy_command(self, now: float) -> np.ndarray:
    stale = self._command_received is None or (
      self.cmd_timeout_s > 0 and now - self._command_received > self.cmd_timeout_s
    )
    return np.zeros(3) if stale else self.command

  def tick(self, now: float) -> MotorCommand | None:
    """One control period: the command to send, or None (WAIT_FOR_STATE: send nothing)."""
    meas, problem = self.measurement(now)
    self._policy.command = self._policy_command(now)
    return self.supervisor.update(now, meas, self._policy, problem)

  @property
  def goal_row(self) -> int | None:
    """The goal row the last policy step showed (RUNNING; DAMPING: where it stopped), None
    without goals and in SOFT_START (RUNNING replays from row 1 again)."""
    return None if self.state is SupervisorState.SOFT_START else self._policy.goal_row

  @property
  def policy_steps(self) -> int:
    """Policy steps since RUNNING last began."""
    return self._policy.steps

  def report(self) -> dict[str, str]:
    """The supervisor status's key-values of the diagnostics (``goal_row`` empty without one)."""
    sup = self.supervisor
    return {
      "state": sup.state.value, "last_fault": sup.last_fault or "", "waiting_for": sup.waiting_for or "",
      "command": " ".join(f"{v:.3f}" for v in self.command), "command_clamped": str(self.command_clamped),
      "goal_row": "" if self.goal_row is None else str(self.goal_row),
      "goal_rows": str(self.replay.rows() or ""),
      **{f"problem.{k}": v for k, v in self.problems.items()},
    }  # fmt: skip

  def estop(self, now: float, reason: str = "e-stop (~/estop)") -> MotorCommand:
    self.supervisor.estop(now, reason)
    meas, _ = self.measurement(now)
    return self.supervisor.damping_command(meas)

  def enable(self, flag: bool, now: float) -> tuple[bool, str]:
    meas, problem = self.measurement(now)
    return self.supervisor.enable(flag, now, meas, problem)

  @property
  def state(self) -> SupervisorState:
    return self.supervisor.state


def check_start_pose(runtime: PolicyRuntime) -> None:
  """A DeployError for a contract whose episodes start in a clip frame (whole-body tracking)."""
  c = runtime.contract
  start = load_start_state(runtime.folder, c)
  if start is None:
    return
  gap = np.abs(start.joint_pos - np.asarray(c.default_joint_pos))
  worst = int(np.argmax(gap))
  raise DeployError(
    f"{c.task} was trained to start in its clip's first frame (full-state start: root pose, "
    f"velocities, joints up to {gap[worst]:.2f} rad from the default pose at {c.joint_names[worst]}); "
    "the node soft-starts a real robot to the default pose and cannot put it there. Pass "
    "--accept-start-pose-mismatch (parameter accept_start_pose_mismatch) to run it from the default pose "
    "anyway (docs/ros2.md)"
  )


class _RuntimePolicy:
  """The supervisor's Policy: the step's commands (``GoalReplay``), RobotState from a
  Measurement, then PolicyRuntime.step; counts policy steps from ``reset``."""

  def __init__(self, runtime: PolicyRuntime, replay: GoalReplay):
    self.runtime, self.replay = runtime, replay
    self.command = np.zeros(3)
    """The operator's (vx, vy, wz) for the next step (ignored without a velocity command)."""
    self.steps = 0
    self.goal_row: int | None = None

  def reset(self) -> None:
    self.runtime.reset()
    self.steps, self.goal_row = 0, None

  def __call__(self, meas: Measurement) -> np.ndarray:
    self.replay.apply(self.runtime, self.steps, self.command)
    quat = meas.base_quat / np.linalg.norm(meas.base_quat)
    lin_vel = meas.base_lin_vel if meas.base_lin_vel is not None else np.zeros(3)
    target = self.runtime.step(RobotState(quat, meas.base_ang_vel, lin_vel, meas.joint_pos, meas.joint_vel))
    self.goal_row = self.replay.row(self.steps)
    self.steps += 1
    return target
