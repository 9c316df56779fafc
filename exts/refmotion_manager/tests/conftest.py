"""Shared fixtures: the G1 model (from an installed mjlab's asset zoo), a toy robot whose
forward kinematics is easy to compute by hand, and smooth synthetic clips."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from refmotion_manager import G1_29DOF_JOINT_NAMES, MotionClip, RobotModel, default_g1_mjcf, quat

# base (free) --0.3 m along x--> arm (hinge about y) --0.5 m along x--> tip (slide along x)
TOY_MJCF = """
<mujoco model="toy">
  <worldbody>
    <body name="base">
      <freejoint/>
      <geom type="sphere" size="0.05"/>
      <body name="arm" pos="0.3 0 0">
        <joint name="hinge_y" type="hinge" axis="0 1 0" range="-1 1"/>
        <geom type="capsule" fromto="0 0 0 0.5 0 0" size="0.02"/>
        <body name="tip" pos="0.5 0 0">
          <joint name="slide_x" type="slide" axis="1 0 0" range="-0.1 0.1"/>
          <geom type="sphere" size="0.03"/>
        </body>
      </body>
    </body>
  </worldbody>
</mujoco>
"""


@pytest.fixture(scope="session")
def g1() -> RobotModel:
  if importlib.util.find_spec("mjlab") is None:
    pytest.skip("mjlab is not installed, so there is no G1 MJCF to test against")
  return RobotModel.from_mjcf(default_g1_mjcf())


@pytest.fixture(scope="session")
def toy(tmp_path_factory: pytest.TempPathFactory) -> RobotModel:
  path = tmp_path_factory.mktemp("toy") / "toy.xml"
  path.write_text(TOY_MJCF)
  return RobotModel.from_mjcf(path)


def smooth_g1_clip(num_frames: int = 40, fps: float = 30.0, seed: int = 0) -> MotionClip:
  """A G1 clip with sinusoidal joints inside their limits, walking and turning."""
  rng = np.random.default_rng(seed)
  t = np.arange(num_frames) / fps
  freq = rng.uniform(0.5, 2.0, size=29)
  joint_pos = 0.1 * np.sin(2 * np.pi * freq * t[:, None] + rng.uniform(0, 6, 29))
  root_pos = np.stack([0.5 * t, 0.1 * np.sin(t), np.full_like(t, 0.79)], axis=1)
  roll_pitch = quat.from_euler_xyz(0.05, 0.1, 0.0)
  root_quat = quat.multiply(quat.from_yaw(0.3 * t), np.broadcast_to(roll_pitch, (len(t), 4)))
  return MotionClip(
    fps, G1_29DOF_JOINT_NAMES, root_pos, root_quat, joint_pos, metadata={"name": "smooth", "seed": seed}
  )


@pytest.fixture
def clip() -> MotionClip:
  return smooth_g1_clip()


@pytest.fixture
def make_g1_clip():
  return smooth_g1_clip


def file_digest(path: Path) -> tuple[bytes, int]:
  """Content and modification time: both must be unchanged after reading a file."""
  stat = path.stat()
  return path.read_bytes(), stat.st_mtime_ns


@pytest.fixture
def digest():
  return file_digest
