"""Shared fixtures: the Flat-G1 training env (1 env, CPU) and the shipped policy with robot.xml."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .helpers import G1_POLICY

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("MUJOCO_GL", "osmesa")
os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
os.environ.setdefault("MJLAB_WARP_QUIET", "1")


@pytest.fixture(scope="session")
def flat_g1_env():
  """The Flat-G1 task env the shipped policy was trained in (1 env on CPU)."""
  from legged_robots.tasks import make_env

  env = make_env("Flat-G1", device="cpu", num_envs=1, seed=0)
  yield env.unwrapped
  env.close()


@pytest.fixture(scope="session")
def g1_export(flat_g1_env, tmp_path_factory) -> Path:
  """policies/flat_g1_h200 plus the exporter's robot.xml, as a current export would be."""
  from legged_robots.deploy import DeployContract
  from legged_robots.rl.contract_builder import robot_mjcf

  folder = tmp_path_factory.mktemp("flat_g1_export")
  for name in ("policy.onnx", "deploy.yaml"):
    shutil.copy(G1_POLICY / name, folder / name)
  (folder / "robot.xml").write_text(robot_mjcf(flat_g1_env, "robot"))
  contract = DeployContract.load(folder / "deploy.yaml")
  contract.robot.sim_mjcf = "robot.xml"
  contract.save(folder / "deploy.yaml")
  return folder
