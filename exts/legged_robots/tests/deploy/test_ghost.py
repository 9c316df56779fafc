"""The translucent reference robot of sim2mujoco's video: path alignment and drawing."""

from __future__ import annotations

import math
from pathlib import Path

import mujoco
import numpy as np
import pytest

from legged_robots.deploy.ghost import GHOST_RGB, Ghost, aligned_root


def test_a_path_heading_north_is_turned_to_start_along_x_at_the_offset():
  # Root walks +y at 1 m/frame, facing +y (yaw 90 deg), starting at (5, 5, 0.8).
  yaw = math.pi / 2
  quat = [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]
  qpos = np.array([[5.0, 5.0 + k, 0.8, *quat, 0.3] for k in range(3)])
  out = aligned_root(qpos, offset=(0.0, 1.0))
  np.testing.assert_allclose(out[:, :3], [[0, 1, 0.8], [1, 1, 0.8], [2, 1, 0.8]], atol=1e-12)
  np.testing.assert_allclose(np.abs(out[:, 3:7]), [[1, 0, 0, 0]] * 3, atol=1e-12)  # facing +x
  np.testing.assert_array_equal(out[:, 7], qpos[:, 7])  # joints untouched


def test_ghost_geoms_are_added_translucent():
  exported = Path(__file__).resolve().parents[4] / "policies" / "amp_flat_g1_h200"
  model = mujoco.MjModel.from_xml_path(str(exported / "robot.xml"))
  qpos = np.tile(model.qpos0, (4, 1))
  ghost = Ghost(exported / "robot.xml", qpos, fps=50.0, alpha=0.3)
  data = mujoco.MjData(model)
  mujoco.mj_forward(model, data)
  option = mujoco.MjvOption()
  option.geomgroup[:] = 1
  scene = mujoco.MjvScene(model, maxgeom=2000)
  mujoco.mjv_updateScene(model, data, option, None, mujoco.MjvCamera(), mujoco.mjtCatBit.mjCAT_ALL, scene)
  before = scene.ngeom
  ghost.pose(0.5)
  ghost.add_to(scene, option)
  added = [scene.geoms[i] for i in range(before, scene.ngeom)]
  assert len(added) > 10
  assert all(np.allclose(g.rgba, [*GHOST_RGB, 0.3]) for g in added)
  with pytest.raises(ValueError, match="needs"):
    Ghost(exported / "robot.xml", np.zeros((2, 3)), fps=50.0)


def test_sim2mujoco_reference_csv_without_rate_is_bad_input(tmp_path):
  import os
  import subprocess
  import sys

  repo = Path(__file__).resolve().parents[4]
  csv = tmp_path / "walk.csv"
  csv.write_text("0,0,0.8,0,0,0,1" + ",0" * 29 + "\n" + "0,0,0.8,0,0,0,1" + ",0" * 29 + "\n")
  cmd = [
    sys.executable,
    str(repo / "scripts/st_rl/sim2mujoco.py"),
    "--policy",
    str(repo / "policies/amp_flat_g1_h200"),
  ]
  cmd += ["--duration", "1", "--reference", str(csv), "--out", str(tmp_path / "out")]
  env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "MUJOCO_GL": "osmesa", "PYOPENGL_PLATFORM": "osmesa"}
  result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
  assert result.returncode == 2 and "Traceback" not in result.stderr
  assert "does not store its rate: pass --reference-fps" in result.stderr
