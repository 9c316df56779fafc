"""The safety supervisor between a policy and the motors: a four-state machine (numpy only).

    WAIT_FOR_STATE --enable, state complete--> SOFT_START --ramp done--> RUNNING
          |                                       |                        |
          +---------- estop ----------------------+-- fault / estop / disable --> DAMPING
    DAMPING --enable, state valid--> SOFT_START            (the only way out of DAMPING)

Faults (in SOFT_START and RUNNING): an input problem (a joint missing from the state
message), state older than ``state_timeout_s``, NaN/inf in the state or in the policy
output, a non-unit IMU quaternion, base tilt beyond ``tilt_limit_rad``, a joint beyond its
limit by more than ``joint_limit_margin_rad``.

Soft start, from the measured pose q0 at time t0 over T = ``soft_start_s``, with
s = (t - t0) / T and the ramp r(s) = (1 - cos(pi s)) / 2 (zero slope at both ends)::

    q_ref = q0 + (q_default - q0) r(s)
    kp    = kp_policy (f + (1 - f) r(s)),   kd likewise,   f = soft_start_gain_fraction

Every position target (soft start and policy) is clamped to the joint limits, then moved
at most ``max_target_rate * dt`` from the previous target. DAMPING commands kp = 0 and
kd = ``damping_kd_scale`` * kd_policy: tau = -kd qd, zero-velocity damping; its position
field is the measured pose (inert with kp = 0; a PD drive fed only positions then damps).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import numpy as np

from legged_robots.deploy.errors import DeployError


class SupervisorState(StrEnum):
  WAIT_FOR_STATE = "WAIT_FOR_STATE"
  SOFT_START = "SOFT_START"
  RUNNING = "RUNNING"
  DAMPING = "DAMPING"


@dataclass(frozen=True)
class SupervisorConfig:
  """Limits and timings of the supervisor (all exposed as ROS parameters by the node)."""

  soft_start_s: float = 2.0
  """Duration of the ramp from the measured pose to the default pose."""
  soft_start_gain_fraction: float = 0.2
  """kp and kd at the start of the ramp, as a fraction of the policy's gains."""
  state_timeout_s: float = 0.1
  """A state input older than this (time since it was received) is a fault."""
  tilt_limit_rad: float = 0.8
  """Angle between the base z axis and the world z axis (training terminated at 1 rad)."""
  joint_limit_margin_rad: float = 0.1
  """A measured joint beyond its limit by more than this is a fault."""
  max_target_rate: float = 50.0
  """rad/s: a target moves at most max_target_rate * dt per control step (the shipped G1
  policies command up to ~37 and ~70 rad/s peaks when walking at 1 m/s; 50 changes their
  tracking by < 0.01 m/s in MuJoCo)."""
  damping_kd_scale: float = 1.0
  """kd in DAMPING = this x the policy's kd."""
  auto_enable: bool = False
  """Start the soft start as soon as the state is complete, without a ~/enable call."""


@dataclass
class Measurement:
  """What a control step knows about the robot, contract joint order."""

  joint_pos: np.ndarray
  joint_vel: np.ndarray
  base_quat: np.ndarray
  """(w, x, y, z), base (root link) orientation in the world."""
  base_ang_vel: np.ndarray
  """Base-frame angular velocity (rad/s)."""
  base_lin_vel: np.ndarray | None
  """Base-frame linear velocity (m/s), None when the policy does not observe it."""
  age_s: dict[str, float] = field(default_factory=dict)
  """Seconds since each input (e.g. joint_states, imu) was received."""


@dataclass(frozen=True)
class MotorCommand:
  """Per-joint PD command for the motors, contract joint order; always finite."""

  state: SupervisorState
  position: np.ndarray
  kp: np.ndarray
  kd: np.ndarray
  measured_position: bool = False
  """DAMPING: position is the measured pose (else the last target, the state being unusable)."""


class Policy(Protocol):
  def reset(self) -> None: ...

  def __call__(self, meas: Measurement) -> np.ndarray: ...


def soft_start_ramp(s: float) -> float:
  """r(s) = (1 - cos(pi s)) / 2 on s clipped to [0, 1]."""
  return 0.5 * (1.0 - math.cos(math.pi * min(max(s, 0.0), 1.0)))


def tilt_of(quat_wxyz: np.ndarray) -> float:
  """Angle (rad) between the body z axis and the world z axis of a unit quaternion."""
  _, x, y, _ = quat_wxyz
  return float(np.arccos(np.clip(1.0 - 2.0 * (x * x + y * y), -1.0, 1.0)))


@dataclass(frozen=True)
class Transition:
  time: float
  source: SupervisorState
  target: SupervisorState
  reason: str


class Supervisor:
  """The state machine; ``update`` once per control step, ``estop``/``enable`` any time."""

  def __init__(
    self,
    config: SupervisorConfig,
    joint_names: Sequence[str],
    default_pos: np.ndarray,
    kp: np.ndarray,
    kd: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    dt: float,
  ):
    self.config, self.joint_names, self.dt = config, list(joint_names), dt
    self.default_pos = np.asarray(default_pos, dtype=np.float64)
    self.kp, self.kd = np.asarray(kp, dtype=np.float64), np.asarray(kd, dtype=np.float64)
    self.lower, self.upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    for name, v in (("kp", self.kp), ("kd", self.kd), ("default pose", self.default_pos)):
      if (
        v.shape != (len(self.joint_names),)
        or not np.all(np.isfinite(v))
        or (name != "default pose" and np.any(v < 0))
      ):
        raise DeployError(
          f"supervisor {name} must be {len(self.joint_names)} finite values (gains >= 0): {v}"
        )
    self.state = SupervisorState.WAIT_FOR_STATE
    self.last_fault: str | None = None
    self.waiting_for: str | None = "no state received yet"
    self.transitions: deque[Transition] = deque(maxlen=200)
    self._armed = config.auto_enable
    self._t0 = 0.0
    self._q0 = self.default_pos.copy()
    self._last = self.default_pos.copy()

  # --- faults -------------------------------------------------------------------------

  def check(self, meas: Measurement | None, problem: str | None = None) -> str | None:
    """The first fault in this measurement (None: safe to command), naming what is wrong."""
    if problem is not None:
      return problem
    if meas is None:
      return "no complete state yet"
    stale = {k: v for k, v in meas.age_s.items() if v > self.config.state_timeout_s}
    if stale:
      ages = ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in stale.items())
      return f"state timeout: {ages} old (state_timeout_s {self.config.state_timeout_s})"
    fields = {
      "joint_pos": meas.joint_pos, "joint_vel": meas.joint_vel,
      "base_quat": meas.base_quat, "base_ang_vel": meas.base_ang_vel,
    }  # fmt: skip
    if meas.base_lin_vel is not None:
      fields["base_lin_vel"] = meas.base_lin_vel
    for name, value in fields.items():
      bad = np.flatnonzero(~np.isfinite(value))
      if bad.size:
        where = [self.joint_names[i] for i in bad] if name.startswith("joint") else bad.tolist()
        return f"NaN/inf in {name} {where}"
    norm = float(np.linalg.norm(meas.base_quat))
    if abs(norm - 1.0) > 0.1:
      return f"IMU orientation is not a unit quaternion (norm {norm:.3f})"
    tilt = tilt_of(meas.base_quat / norm)
    if tilt > self.config.tilt_limit_rad:
      return f"base tilt {tilt:.2f} rad > tilt_limit_rad {self.config.tilt_limit_rad}"
    margin = self.config.joint_limit_margin_rad
    beyond = np.flatnonzero((meas.joint_pos < self.lower - margin) | (meas.joint_pos > self.upper + margin))
    if beyond.size:
      i = int(beyond[0])
      return (
        f"joint {self.joint_names[i]} at {meas.joint_pos[i]:.3f} rad is beyond its limits "
        f"[{self.lower[i]:.3f}, {self.upper[i]:.3f}] by more than {margin} rad"
        + (f" (and {beyond.size - 1} more)" if beyond.size > 1 else "")
      )
    return None

  # --- transitions --------------------------------------------------------------------

  def _go(self, now: float, target: SupervisorState, reason: str) -> None:
    self.transitions.append(Transition(now, self.state, target, reason))
    self.state = target

  def _damp(self, now: float, reason: str) -> None:
    self.last_fault = reason
    self._armed = False
    self._go(now, SupervisorState.DAMPING, reason)

  def _start_soft(self, now: float, meas: Measurement, reason: str) -> None:
    self._t0 = now
    self._q0 = np.clip(meas.joint_pos, self.lower, self.upper)
    self._last = self._q0.copy()
    self._go(now, SupervisorState.SOFT_START, reason)

  def estop(self, now: float, reason: str = "e-stop") -> None:
    """Latched: DAMPING until ``enable(True)``."""
    if self.state is not SupervisorState.DAMPING:
      self._damp(now, reason)
    else:
      self.last_fault = reason

  def enable(self, flag: bool, now: float, meas: Measurement | None, problem: str | None) -> tuple[bool, str]:
    """~/enable: True arms (WAIT_FOR_STATE) or soft-starts (DAMPING); False goes to DAMPING."""
    s = self.state
    if not flag:
      if s is SupervisorState.WAIT_FOR_STATE:
        self._armed = False
        return True, "disarmed: will wait for ~/enable"
      if s is not SupervisorState.DAMPING:
        self._damp(now, "disabled by ~/enable")
      return True, "DAMPING"
    if s in (SupervisorState.SOFT_START, SupervisorState.RUNNING):
      return True, f"already {s.value}"
    if s is SupervisorState.WAIT_FOR_STATE:
      self._armed = True
      return True, "armed: soft start begins once the state is complete"
    fault = self.check(meas, problem)
    if fault is not None:
      return False, f"refused, still DAMPING: {fault}"
    assert meas is not None
    self._start_soft(now, meas, "enabled by ~/enable")
    return True, "SOFT_START"

  # --- one control step ---------------------------------------------------------------

  def update(
    self, now: float, meas: Measurement | None, policy: Policy, problem: str | None = None
  ) -> MotorCommand | None:
    """The command for this step (None in WAIT_FOR_STATE: send nothing)."""
    fault = self.check(meas, problem)
    if self.state is SupervisorState.WAIT_FOR_STATE:
      self.waiting_for = fault if fault is not None else (None if self._armed else "~/enable")
      if fault is not None or not self._armed:
        return None
      assert meas is not None
      self._start_soft(now, meas, "state complete" if self.config.auto_enable else "armed and state complete")
    elif self.state is not SupervisorState.DAMPING and fault is not None:
      self._damp(now, fault)
    if self.state is SupervisorState.DAMPING:
      return self.damping_command(meas)
    assert meas is not None
    if self.state is SupervisorState.SOFT_START:
      s = (now - self._t0) / self.config.soft_start_s if self.config.soft_start_s > 0 else 1.0
      if s < 1.0 - 1e-9:  # float slack: t0 + T must end the ramp
        r = soft_start_ramp(s)
        f = self.config.soft_start_gain_fraction
        target = self._q0 + (self.default_pos - self._q0) * r
        return self._command(target, self.kp * (f + (1 - f) * r), self.kd * (f + (1 - f) * r))
      policy.reset()
      self._go(now, SupervisorState.RUNNING, "soft start done")
    try:
      target = np.asarray(policy(meas), dtype=np.float64)
    except DeployError as e:
      self._damp(now, f"policy: {e}")
      return self.damping_command(meas)
    if target.shape != self.default_pos.shape or not np.all(np.isfinite(target)):
      self._damp(now, f"policy returned non-finite or mis-sized targets (shape {target.shape})")
      return self.damping_command(meas)
    return self._command(target, self.kp, self.kd)

  def _command(self, target: np.ndarray, kp: np.ndarray, kd: np.ndarray) -> MotorCommand:
    target = np.clip(target, self.lower, self.upper)
    step = self.config.max_target_rate * self.dt
    target = np.clip(target, self._last - step, self._last + step)
    self._last = target
    return MotorCommand(self.state, target.copy(), kp.copy(), kd.copy())

  def damping_command(self, meas: Measurement | None) -> MotorCommand:
    """kp = 0, kd = damping kd; position = the measured pose if finite, else the last target."""
    q = None if meas is None else meas.joint_pos
    measured = q is not None and bool(np.all(np.isfinite(q)))
    position = q.copy() if q is not None and measured else self._last.copy()
    kd = self.kd * self.config.damping_kd_scale
    return MotorCommand(SupervisorState.DAMPING, position, np.zeros_like(self.kp), kd, measured)
