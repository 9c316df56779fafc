"""Goal tables of motion-conditioned policies: the command of every control step, replayed.

A mimic policy observes goals sampled from its reference clip (``MotionCommand``). The
exporter samples them once, with the training code, at every control step of a fresh
episode that starts at clip time 0, and writes ``<command>_goals.npz`` beside
deploy.yaml: ``goals`` (steps, size) float32, row k = the goal at clip time k * dt.
Training shows row k + 1 at control step k (the goal of the frame the next action
aims at), and so does ``goal_at``. The table covers one training episode; beyond it
playback wraps to row 0 when the command loops its clip (``loop``, a bool; tables without
it loop), else holds the last row, as a clip that does not loop holds its last frame.
``GoalReplay`` sets a runtime's commands of control step k from the tables: sim2mujoco's
closed loop and the ROS 2 node both replay through it.

Beside ``goals``, the table says what it stands for, so that a run can be scored against
it: ``joint_names`` (the goal's joints, in goal order: the first half of a row is their
position minus the default pose), and when the task tracks links (``env.motion.body_names``)
``link_names``, ``link_pos_w`` (steps, links, 3), ``root_pos_w`` (steps, 3) and
``root_quat`` (steps, 4): the clip placed as the goals are (frame 0's root x, y on the
origin). ``Reference`` and ``TrackingErrors`` read them; older tables lack them.

A table named by a velocity command's ``adds`` holds ``base_velocity`` (steps, 3): the
clip root's (vx, vy, wz) in its own frame per row, which the runtime adds to the operator's
command as it replays the goals (``base_velocity_offsets``).

A command whose training episodes start from a full clip state (``init="full"``: whole-body
tracking) also stores that start, clip frame 0 placed as training places it (root x, y at
the origin): ``start_root_pos`` (3), ``start_root_quat`` (4, wxyz), ``start_root_lin_vel_w``
and ``start_root_ang_vel_w`` (3, world frame), ``start_joint_pos`` and ``start_joint_vel``
(joints in ``deploy.yaml`` order). A runtime starts the robot there (``StartState``).
Tables without these keys (mimic, older exports) start from the default pose.

A folder shipped without its tables (they derive from a clip that may not be shipped) holds
``goals_source.yaml`` instead (``rl/goal_tables.py``: ``scripts/st_rl/goals.py strip``); a
missing table then names the clips and the ``goals.py attach`` command that rebuilds it.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mujoco
import numpy as np
import yaml

from legged_robots.deploy.contract import CommandSpec, DeployContract
from legged_robots.deploy.errors import DeployError, MissingFileError

if TYPE_CHECKING:
  from legged_robots.deploy.runtime import PolicyRuntime

GOALS_SUFFIX = "_goals.npz"
GOALS_SOURCE = "goals_source.yaml"


@dataclass(frozen=True)
class StartState:
  """The robot state an episode of a full-state motion command starts in (module docstring)."""

  root_pos: np.ndarray
  root_quat: np.ndarray
  root_lin_vel_w: np.ndarray
  root_ang_vel_w: np.ndarray
  joint_pos: np.ndarray
  joint_vel: np.ndarray

  def to_npz(self) -> dict[str, np.ndarray]:
    """The table's ``start_*`` arrays."""
    return {f"start_{f.name}": getattr(self, f.name) for f in fields(self)}


def _read_table(folder: Path, spec: CommandSpec) -> tuple[Path, dict[str, np.ndarray]]:
  assert spec.goals is not None
  path = Path(folder) / spec.goals
  if not path.is_file():
    raise MissingFileError(
      f"{path} is missing: command '{spec.name}' replays it; {_missing_table_fix(folder)}"
    )
  try:
    with np.load(path, allow_pickle=False) as data:
      return path, {
        k: data[k].astype(np.float64) if data[k].dtype.kind in "fiu" else data[k] for k in data.files
      }
  except (OSError, ValueError, zipfile.BadZipFile) as e:
    raise MissingFileError(f"{path} is not a goal table ({e}); re-export the policy") from e


def _missing_table_fix(folder: Path) -> str:
  """How to get a missing table back: attach it from the clips ``goals_source.yaml`` names, else
  re-export."""
  source = Path(folder) / GOALS_SOURCE
  if not source.is_file():
    return "re-export the policy"
  try:
    clips = [str(c["file"]) for c in yaml.safe_load(source.read_text())["clips"]]
  except (yaml.YAMLError, KeyError, TypeError) as e:
    raise MissingFileError(f"{source} is not a goals source ({e}); re-strip the exported folder") from None
  return (
    "this folder ships without its goal tables; rebuild them from your copy of the clip: "
    f"python scripts/st_rl/goals.py attach {folder} --clips <path to {' '.join(clips)}> --out <dir>"
  )


def load_goals(folder: Path, spec: CommandSpec) -> np.ndarray:
  """The (steps, size) goal table of a command with ``goals``; a clear error if it is unusable."""
  path, table = _read_table(folder, spec)
  goals = table.get("goals")
  if goals is None:
    raise MissingFileError(f"{path} is not a goal table (no 'goals' array); re-export the policy")
  if goals.ndim != 2 or len(goals) < 2 or not np.isfinite(goals).all():
    raise MissingFileError(
      f"{path}: goals must be a finite (steps >= 2, size) array, got shape {goals.shape}"
    )
  return goals


def load_start_state(folder: Path, contract: DeployContract) -> StartState | None:
  """The start state of the first replayed command that stores one, else None."""
  sizes = {"root_pos": 3, "root_quat": 4, "root_lin_vel_w": 3, "root_ang_vel_w": 3}
  sizes |= {"joint_pos": len(contract.joint_names), "joint_vel": len(contract.joint_names)}
  for spec in contract.commands:
    if spec.goals is None:
      continue
    path, table = _read_table(folder, spec)
    present = {name: table.get(f"start_{name}") for name in sizes}
    if all(v is None for v in present.values()):
      continue
    checked: dict[str, np.ndarray] = {}
    for name, size in sizes.items():
      value = present[name]
      if value is None or value.shape != (size,) or not np.isfinite(value).all():
        got = "missing" if value is None else f"shape {value.shape}"
        raise MissingFileError(
          f"{path}: start_{name} must be {size} finite numbers ({got}); re-export the policy"
        )
      checked[name] = value
    return StartState(**checked)
  return None


def base_velocity_offsets(folder: Path, contract: DeployContract) -> dict[str, np.ndarray]:
  """(steps, 3) clip base velocity added to each command with ``adds``, by command name."""
  specs = {c.name: c for c in contract.commands}
  offsets = {}
  for spec in contract.commands:
    if spec.adds is None:
      continue
    path, table = _read_table(folder, specs[spec.adds])
    value = table.get("base_velocity")
    if value is None or value.ndim != 2 or value.shape[1] != 3 or not np.isfinite(value).all():
      raise MissingFileError(
        f"{path}: command '{spec.name}' adds its base_velocity, which is missing or not a finite "
        "(steps, 3) array; re-export the policy"
      )
    offsets[spec.name] = value
  return offsets


def goal_tables(folder: Path, contract: DeployContract) -> dict[str, np.ndarray]:
  """Goal table of every replayed command of the contract, by command name."""
  return {c.name: load_goals(folder, c) for c in contract.commands if c.goals is not None}


def goal_row(rows: int, step: int, loop: bool = True) -> int:
  """The row of a ``rows``-row table shown at control step ``step`` of an episode: step + 1,
  wrapped to row 0 past the end (``loop``) or held at the last row."""
  return (step + 1) % rows if loop else min(step + 1, rows - 1)


def goal_at(goals: np.ndarray, step: int, loop: bool = True) -> np.ndarray:
  """The command at control step ``step`` of an episode (``goal_row``)."""
  return goals[goal_row(len(goals), step, loop)]


def table_loops(folder: Path, spec: CommandSpec) -> bool:
  """Whether the command of a goal table loops its clip (the table's ``loop``; absent: True)."""
  path, table = _read_table(folder, spec)
  loop = table.get("loop")
  if loop is None:
    return True
  if loop.shape != () or loop.dtype.kind not in "bfiu":
    raise MissingFileError(f"{path}: loop must be one bool, got shape {loop.shape}; re-export the policy")
  return bool(loop)


class GoalReplay:
  """The commands of control step k of an episode as training shows them: each replayed
  command's goal row (``goal_at``) and, for the operator's velocity command, the operator's
  value plus the clip's base velocity of that row when the command ``adds`` it."""

  def __init__(self, folder: Path, contract: DeployContract, velocity_command: str | None):
    specs = {c.name: c for c in contract.commands}
    self.tables = goal_tables(folder, contract)
    self.loops = {name: table_loops(folder, specs[name]) for name in self.tables}
    self.velocity_command = velocity_command
    adds = None if velocity_command is None else specs[velocity_command].adds
    self.offset = None if adds is None else base_velocity_offsets(folder, contract)[str(velocity_command)]
    """(rows, 3) clip base velocity added to the velocity command, or None."""
    self._offset_loops = True if adds is None else self.loops[adds]

  def row(self, step: int) -> int | None:
    """The goal row shown at control step ``step`` (of the first table; None without tables)."""
    name = next(iter(self.tables), None)
    return None if name is None else goal_row(len(self.tables[name]), step, self.loops[name])

  def rows(self) -> int | None:
    """Rows of the first table (None without tables)."""
    return next((len(goals) for goals in self.tables.values()), None)

  def apply(self, runtime: PolicyRuntime, step: int, command: np.ndarray | None = None) -> np.ndarray | None:
    """Set ``runtime``'s commands for control step ``step`` (0: the episode's first policy
    step); ``command`` is the operator's (vx, vy, wz). Returns the velocity command given."""
    given = None
    if self.velocity_command is not None and command is not None:
      given = np.asarray(command, dtype=np.float64)
      if self.offset is not None:  # replayed with the goals, as training adds it
        given = given + goal_at(self.offset, step, self._offset_loops)
      runtime.set_command(self.velocity_command, given)
    for name, goals in self.tables.items():
      runtime.set_command(name, goal_at(goals, step, self.loops[name]))
    return given


@dataclass(frozen=True)
class Reference:
  """A replayed command's reference per goal row: the goal joints' absolute positions and,
  for whole-body tracking, the links' and root's world poses (module docstring)."""

  joint_names: list[str]
  joint_pos: np.ndarray  # (steps, joints)
  link_names: list[str]
  link_pos_w: np.ndarray | None  # (steps, links, 3)
  root_pos_w: np.ndarray | None  # (steps, 3)
  root_quat: np.ndarray | None  # (steps, 4) wxyz
  loop: bool = True
  """Past the last row the reference wraps to row 0 (else holds the last row), as ``goal_row``."""


def load_reference(folder: Path, contract: DeployContract) -> Reference | None:
  """The reference of the first replayed command whose table names its joints, else None
  (an older export: its runs are not scored)."""
  default = dict(zip(contract.joint_names, contract.default_joint_pos, strict=True))
  for spec in contract.commands:
    if spec.goals is None:
      continue
    path, table = _read_table(folder, spec)
    if "joint_names" not in table:
      continue
    names = [str(n) for n in table["joint_names"]]
    goals = load_goals(folder, spec)
    unknown = sorted(set(names) - set(default))
    if unknown or goals.shape[1] != 2 * len(names):
      raise MissingFileError(
        f"{path}: joint_names {unknown or names} do not match deploy.yaml's joints or the goal "
        f"width {goals.shape[1]}; re-export the policy"
      )
    joint_pos = goals[:, : len(names)] + np.array([default[n] for n in names])
    links = [str(n) for n in table.get("link_names", [])]
    poses = (table.get(k) for k in ("link_pos_w", "root_pos_w", "root_quat"))
    return Reference(names, joint_pos, links, *poses, loop=table_loops(folder, spec))
  return None


def _yaw_inverse(quat: np.ndarray, vec: np.ndarray) -> np.ndarray:
  """(B, 3) world vectors in the heading (yaw-only) frame of the wxyz ``quat``."""
  w, x, y, z = quat
  yaw = np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
  c, s = np.cos(yaw), np.sin(yaw)
  return np.stack([c * vec[:, 0] + s * vec[:, 1], -s * vec[:, 0] + c * vec[:, 1], vec[:, 2]], axis=1)


def heading_relative(pos: np.ndarray, root_pos: np.ndarray, root_quat: np.ndarray) -> np.ndarray:
  """Link positions (B, 3) in the root's heading frame: x, y from the root, z the height
  (training's ``mimic.link_states``)."""
  return _yaw_inverse(root_quat, pos - np.array([root_pos[0], root_pos[1], 0.0]))


class TrackingErrors:
  """A MuJoCo run scored against a ``Reference``: after control step k the robot should be
  at goal row k + 1 (``goal_at``). Means over steps of |q - q_ref| over the goal joints
  (rad) and, with links, of each link's distance to its reference in the world and from
  the root (m), as play reports them."""

  def __init__(self, reference: Reference, model: mujoco.MjModel, qpos_adr: dict[str, int], root_adr: int):
    self.reference = reference
    self._joints = np.array([qpos_adr[n] for n in reference.joint_names])
    self._root = root_adr
    ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, n) for n in reference.link_names]
    missing = [n for n, i in zip(reference.link_names, ids, strict=True) if i < 0]
    if missing:
      raise DeployError(f"the robot MJCF lacks the tracked links {missing}: pass the robot it was trained on")
    self._bodies = np.array(ids, dtype=int)
    self._sums = np.zeros(3)
    self.steps = 0

  def add(self, data: mujoco.MjData, step: int) -> None:
    """Score the state after control step ``step - 1`` (``step`` steps done)."""
    ref = self.reference
    row = goal_row(len(ref.joint_pos), step - 1, ref.loop)
    self._sums[0] += np.abs(data.qpos[self._joints] - ref.joint_pos[row]).mean()
    if ref.link_pos_w is not None and ref.root_pos_w is not None and ref.root_quat is not None:
      pos, r = data.xpos[self._bodies], self._root
      self._sums[1] += np.linalg.norm(pos - ref.link_pos_w[row], axis=1).mean()
      robot = heading_relative(pos, data.qpos[r : r + 3], data.qpos[r + 3 : r + 7])
      target = heading_relative(ref.link_pos_w[row], ref.root_pos_w[row], ref.root_quat[row])
      self._sums[2] += np.linalg.norm(robot - target, axis=1).mean()
    self.steps += 1

  def summary(self) -> dict[str, Any]:
    n = max(self.steps, 1)
    links = self.reference.link_pos_w is not None
    return {
      "steps": self.steps,
      "joint_pos_error_rad": self._sums[0] / n,
      "link_pos_error_world_m": self._sums[1] / n if links else None,
      "link_pos_error_root_m": self._sums[2] / n if links else None,
      "tracked_joints": self.reference.joint_names,
      "tracked_links": self.reference.link_names,
    }
