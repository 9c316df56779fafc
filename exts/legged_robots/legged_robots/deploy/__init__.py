"""Deployment side of st_gym: the contract an exported policy ships with.

Imports only numpy, yaml and the standard library, so a deploy runtime or a ROS 2
node can read ``exported/deploy.yaml`` without torch, warp or mjlab installed.
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

__all__ = [
  "SCHEMA_VERSION",
  "ActionSpec",
  "CommandSpec",
  "ContractError",
  "DeployContract",
  "ObservationTerm",
  "PolicySpec",
  "RobotModel",
]
