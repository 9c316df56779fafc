import ctypes.util
import os
import struct
import subprocess
import sys

import pytest

from refmotion_manager import data_path

pytestmark = pytest.mark.skipif(
  ctypes.util.find_library("OSMesa") is None,
  reason="libosmesa6 is not installed (apt-get install libosmesa6)",
)


def test_render_png_strip_headless(tmp_path):
  out = tmp_path / "strip.png"
  env = {**os.environ, "MUJOCO_GL": "osmesa", "PYOPENGL_PLATFORM": "osmesa", "CUDA_VISIBLE_DEVICES": ""}
  # A subprocess: MUJOCO_GL must be set before mujoco is first imported.
  subprocess.run(
    [
      sys.executable,
      "-m",
      "refmotion_manager",
      "render",
      str(data_path() / "g1_squat.npz"),
      "--out",
      str(out),
      "--width",
      "64",
      "--height",
      "48",
      "--stride",
      "100",
      "--columns",
      "3",
    ],
    check=True,
    env=env,
    capture_output=True,
  )
  header = out.read_bytes()[:24]
  assert header[:8] == b"\x89PNG\r\n\x1a\n"
  width, height = struct.unpack(">II", header[16:24])
  assert (width, height) == (3 * 64, 48)  # frames 0, 100, 200 side by side
