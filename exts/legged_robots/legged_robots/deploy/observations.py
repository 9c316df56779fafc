"""Observation terms of the deploy runtime, keyed on the training term's ``func`` string.

Each supported training term (``mjlab.envs.mdp.observations:*``) has a builder here that
checks the term's parameters against what a runtime can honour and returns a function
``(RobotState, TermInputs) -> np.ndarray`` computing the same quantity as mjlab does from
the simulator state. A term or parameter the runtime cannot reproduce is an error, never
ignored. Conventions follow mjlab 1.6: quaternions are (w, x, y, z); angular and linear
velocities are those of the root link, expressed in the root link (base) frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from legged_robots.deploy.contract import DeployContract, ObservationTerm
from legged_robots.deploy.errors import DeployError, PolicyMismatchError

_MJLAB_OBS = "mjlab.envs.mdp.observations"
GRAVITY_DIR_W = np.array([0.0, 0.0, -1.0])


@dataclass
class RobotState:
  """What a runtime measures on the robot (or reads from the simulator) each control step."""

  base_quat: np.ndarray
  """(4,) w, x, y, z orientation of the root link in the world."""
  base_ang_vel: np.ndarray
  """(3,) root-link angular velocity in the base frame (rad/s)."""
  base_lin_vel: np.ndarray
  """(3,) root-link linear velocity in the base frame (m/s)."""
  joint_pos: np.ndarray
  """(n,) joint positions in ``contract.joint_names`` order (rad)."""
  joint_vel: np.ndarray
  """(n,) joint velocities in ``contract.joint_names`` order (rad/s)."""
  height_scan: np.ndarray | None = None
  """Per ray: height of the scan frame above the hit point (m), mjlab's ray order; NaN = miss."""


@dataclass
class TermInputs:
  """What terms read besides the robot state: the runtime's own memory and commands."""

  default_joint_pos: np.ndarray
  last_action: np.ndarray
  commands: dict[str, np.ndarray]


TermFn = Callable[[RobotState, TermInputs], np.ndarray]


@dataclass(frozen=True)
class BuiltTerm:
  """A contract term bound to its deploy implementation."""

  fn: TermFn
  frame_size: int
  """Width of one control step of the term (its size without history)."""
  command_name: str | None = None
  """The command this term reads, for ``generated_commands``."""


def quat_apply_inverse(quat: np.ndarray, vec: np.ndarray) -> np.ndarray:
  """Rotate vec by the inverse of unit quaternion (w, x, y, z): R(q)^T v."""
  w, xyz = quat[0], -quat[1:4]
  t = 2.0 * np.cross(xyz, vec)
  return vec + w * t + np.cross(xyz, t)


def _check_params(term: ObservationTerm, func: str, allowed: Sequence[str]) -> dict[str, Any]:
  unknown = sorted(set(term.params) - set(allowed))
  if unknown:
    raise DeployError(
      f"observation term '{term.name}' ({func}) has parameters {unknown} the deploy runtime "
      f"does not implement (it knows {sorted(allowed)}): extend legged_robots/deploy/observations.py."
    )
  return term.params


def _check_entity(term: ObservationTerm, contract: DeployContract, joints: bool) -> None:
  """The term must read the contract's robot, and (joint terms) all of its joints in order."""
  asset = term.params.get("asset_cfg")
  if asset is None:
    return
  name = asset.get("name") if isinstance(asset, dict) else None
  if name != contract.robot.entity_name:
    raise DeployError(
      f"observation term '{term.name}' reads entity {name!r}, but the contract describes "
      f"'{contract.robot.entity_name}': the deploy runtime only observes the robot."
    )
  if not joints:
    return
  names, ids = asset.get("joint_names"), asset.get("joint_ids")
  all_names = names in (None, ".*", [".*"]) or names == contract.joint_names
  all_ids = ids is None or ids == list(range(len(contract.joint_names)))
  if not (all_names and all_ids):
    raise DeployError(
      f"observation term '{term.name}' reads a joint subset (joint_names={names}, joint_ids={ids}); "
      "the deploy runtime observes all contract joints in joint_names order: retrain with all joints."
    )


def _root_term(read: Callable[[RobotState], np.ndarray]) -> Callable[..., BuiltTerm]:
  def build(term: ObservationTerm, contract: DeployContract, func: str) -> BuiltTerm:
    _check_params(term, func, ["asset_cfg"])
    _check_entity(term, contract, joints=False)
    return BuiltTerm(lambda state, _inputs: read(state), 3)

  return build


def _joint_pos_rel(term: ObservationTerm, contract: DeployContract, func: str) -> BuiltTerm:
  params = _check_params(term, func, ["asset_cfg", "biased"])
  _check_entity(term, contract, joints=True)
  if params.get("biased", False):
    raise DeployError(
      f"observation term '{term.name}' uses biased=True (encoder bias randomized in training); "
      "a runtime cannot reproduce a random bias: retrain with biased=False."
    )
  return BuiltTerm(lambda s, i: s.joint_pos - i.default_joint_pos, len(contract.joint_names))


def _joint_vel_rel(term: ObservationTerm, contract: DeployContract, func: str) -> BuiltTerm:
  _check_params(term, func, ["asset_cfg"])
  _check_entity(term, contract, joints=True)
  # mjlab subtracts default_joint_vel, which is zero for every articulated entity.
  return BuiltTerm(lambda s, _i: s.joint_vel, len(contract.joint_names))


def _last_action(term: ObservationTerm, contract: DeployContract, func: str) -> BuiltTerm:
  params = _check_params(term, func, ["action_name"])
  name = params.get("action_name")
  if name not in (None, contract.action.term):
    raise DeployError(
      f"observation term '{term.name}' reads action term {name!r}, but the contract's action "
      f"term is '{contract.action.term}'."
    )
  return BuiltTerm(lambda _s, i: i.last_action, contract.policy.action_dim)


def _generated_commands(term: ObservationTerm, contract: DeployContract, func: str) -> BuiltTerm:
  params = _check_params(term, func, ["command_name"])
  name = params.get("command_name")
  known = [c.name for c in contract.commands]
  if name not in known:
    raise DeployError(f"observation term '{term.name}' reads command {name!r}; the contract has {known}.")
  size = term.size // max(term.history_length, 1)
  return BuiltTerm(lambda _s, i: i.commands[name], size, command_name=name)


def _height_scan(term: ObservationTerm, contract: DeployContract, func: str) -> BuiltTerm:
  params = _check_params(term, func, ["sensor_name", "offset", "miss_value"])
  offset = float(params.get("offset", 0.0))
  miss = params.get("miss_value")
  size = term.size // max(term.history_length, 1)

  def read(state: RobotState, _inputs: TermInputs) -> np.ndarray:
    if state.height_scan is None:
      raise DeployError(f"observation term '{term.name}' needs RobotState.height_scan ({size} rays)")
    scan = np.asarray(state.height_scan, dtype=np.float64)
    if scan.shape != (size,):
      raise DeployError(f"RobotState.height_scan has shape {scan.shape}, term '{term.name}' needs ({size},)")
    heights = scan - offset
    misses = np.isnan(scan)
    if misses.any():
      if miss is None:
        raise DeployError(
          f"height scan has {int(misses.sum())} missed rays (NaN) and the term sets no miss_value: "
          "fill misses with the sensor's max_distance before building RobotState."
        )
      heights[misses] = float(miss)
    return heights

  return BuiltTerm(read, size)


_BUILDERS: dict[str, Callable[[ObservationTerm, DeployContract, str], BuiltTerm]] = {
  f"{_MJLAB_OBS}:base_ang_vel": _root_term(lambda s: s.base_ang_vel),
  f"{_MJLAB_OBS}:base_lin_vel": _root_term(lambda s: s.base_lin_vel),
  f"{_MJLAB_OBS}:projected_gravity": _root_term(lambda s: quat_apply_inverse(s.base_quat, GRAVITY_DIR_W)),
  f"{_MJLAB_OBS}:joint_pos_rel": _joint_pos_rel,
  f"{_MJLAB_OBS}:joint_vel_rel": _joint_vel_rel,
  f"{_MJLAB_OBS}:last_action": _last_action,
  f"{_MJLAB_OBS}:generated_commands": _generated_commands,
  f"{_MJLAB_OBS}:height_scan": _height_scan,
}

SUPPORTED_FUNCS: tuple[str, ...] = tuple(_BUILDERS)


def build_term(term: ObservationTerm, contract: DeployContract) -> BuiltTerm:
  """Bind a contract term to its implementation; check its size and history layout."""
  builder = _BUILDERS.get(term.func)
  if builder is None:
    raise DeployError(
      f"observation term '{term.name}' uses func '{term.func}', which the deploy runtime does not "
      f"implement; supported: {list(SUPPORTED_FUNCS)}."
    )
  if term.history_length > 0 and not term.flatten_history_dim:
    raise DeployError(f"observation term '{term.name}': unflattened history is not supported")
  built = builder(term, contract, term.func)
  expected = built.frame_size * max(term.history_length, 1)
  if expected != term.size:
    raise PolicyMismatchError(
      f"observation term '{term.name}' has size {term.size} in deploy.yaml but computes "
      f"{expected} values (history {term.history_length}): the contract does not match the robot."
    )
  return built
