"""Deployment side of st_gym: the contract an exported policy ships with, and its runtime.

Imports only numpy, mujoco, onnxruntime, yaml and the standard library, so a deploy
runtime or a ROS 2 node can run ``exported/`` without torch, warp or mjlab installed
(``tests/deploy/test_import_boundary.py`` enforces this). The MuJoCo closed loop lives
in ``legged_robots.deploy.mujoco_sim`` and the st_gym folder layout reader in
``legged_robots.deploy.stgym_layout``.
"""

from legged_robots.deploy.contract import (
  SCHEMA_VERSION,
  ActionSpec,
  CommandSpec,
  ContractError,
  DeployContract,
  ObservationTerm,
  PolicySpec,
  RobotModel,
)
from legged_robots.deploy.errors import (
  DeployError,
  MissingFileError,
  NonFiniteActionError,
  PolicyMismatchError,
)
from legged_robots.deploy.observations import RobotState
from legged_robots.deploy.runtime import PolicyRuntime

__all__ = [
  "SCHEMA_VERSION",
  "ActionSpec",
  "CommandSpec",
  "ContractError",
  "DeployContract",
  "DeployError",
  "MissingFileError",
  "NonFiniteActionError",
  "ObservationTerm",
  "PolicyMismatchError",
  "PolicyRuntime",
  "PolicySpec",
  "RobotModel",
  "RobotState",
]
