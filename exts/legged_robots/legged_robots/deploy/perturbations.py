"""What a robustness run varies: sensor noise, latencies, contact, mass, pushes, motor strength."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from legged_robots.deploy.errors import DeployError


@dataclass(frozen=True)
class SensorNoise:
  """Gaussian noise std added to each measured signal (0 = none)."""

  base_ang_vel: float = 0.0
  """rad/s per axis."""
  base_orientation: float = 0.0
  """rad per axis of a random small rotation of the measured base orientation."""
  base_lin_vel: float = 0.0
  joint_pos: float = 0.0
  joint_vel: float = 0.0

  @classmethod
  def training_like(cls, scale: float) -> SensorNoise:
    """``scale`` x the std of the training env's uniform noise (U(-a, a) has std a/sqrt(3))."""
    k = scale / math.sqrt(3.0)
    return cls(base_ang_vel=0.2 * k, base_orientation=0.05 * k, joint_pos=0.01 * k, joint_vel=1.5 * k)


@dataclass(frozen=True)
class Perturbations:
  """What a sweep varies; the defaults are the nominal, unperturbed run."""

  action_latency_steps: int = 0
  """Control steps between the policy's output and the motors applying it."""
  obs_latency_steps: int = 0
  """Control steps between a measurement and the policy seeing it."""
  noise: SensorNoise = field(default_factory=SensorNoise)
  friction_scale: float = 1.0
  added_base_mass_kg: float = 0.0
  push_interval_s: float = 0.0
  """Seconds between pushes (0 = none); each push adds U(-v, v) to the base x and y velocity."""
  push_max_vel: float = 0.0
  motor_strength: float = 1.0
  """Scales kp, kd and the torque limit."""

  def check(self) -> None:
    if self.action_latency_steps < 0 or self.obs_latency_steps < 0 or self.push_interval_s < 0:
      raise DeployError(f"latencies and push interval must be >= 0: {self}")
