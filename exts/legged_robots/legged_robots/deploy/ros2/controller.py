"""The ROS 2 node's logic without ROS: latest inputs -> supervisor -> policy -> motor command.

The node hands every message to one of the ``on_*`` methods (with the receive time of a
monotonic clock) and calls ``tick`` at the control rate. A message that cannot be used
(a missing joint, NaN in a command) is kept as an input problem: no soft start while it
lasts, DAMPING if it arrives in SOFT_START or RUNNING.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from legged_robots.deploy.errors import DeployError
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
  ):
    c = runtime.contract
    funcs = [t.func for t in c.observations]
    if f"{_OBS}:height_scan" in funcs:
      raise DeployError("the policy observes a height scan, which the ROS 2 node does not provide")
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
    self._policy = _RuntimePolicy(runtime, self.needs_lin_vel)
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
    if self.velocity is not None:
      self.runtime.set_command(self.velocity.name, self._policy_command(now))
    return self.supervisor.update(now, meas, self._policy, problem)

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


class _RuntimePolicy:
  """The supervisor's Policy: RobotState from a Measurement, then PolicyRuntime.step."""

  def __init__(self, runtime: PolicyRuntime, needs_lin_vel: bool):
    self.runtime, self.needs_lin_vel = runtime, needs_lin_vel

  def reset(self) -> None:
    self.runtime.reset()

  def __call__(self, meas: Measurement) -> np.ndarray:
    quat = meas.base_quat / np.linalg.norm(meas.base_quat)
    lin_vel = meas.base_lin_vel if meas.base_lin_vel is not None else np.zeros(3)
    return self.runtime.step(RobotState(quat, meas.base_ang_vel, lin_vel, meas.joint_pos, meas.joint_vel))
