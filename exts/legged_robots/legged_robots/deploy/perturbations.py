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
    """Raise DeployError naming the first value that cannot be simulated."""
    values = {
      "action latency": self.action_latency_steps,
      "observation latency": self.obs_latency_steps,
      "push interval": self.push_interval_s,
      "push velocity": self.push_max_vel,
      **{f"{name} noise": v for name, v in vars(self.noise).items()},
    }
    for name, value in values.items():
      if not (math.isfinite(value) and value >= 0):
        raise DeployError(f"{name} must be >= 0 and finite, got {value}")
    for name, value in (("friction scale", self.friction_scale), ("motor strength", self.motor_strength)):
      if not (math.isfinite(value) and value > 0):
        raise DeployError(f"friction and motor strength must be > 0 and finite, got {name} {value}")
    if not math.isfinite(self.added_base_mass_kg):
      raise DeployError(f"added base mass must be finite, got {self.added_base_mass_kg}")
