"""The deployment contract: everything a runtime needs to run an exported policy.

``exported/deploy.yaml`` is written beside ``exported/policy.onnx`` at every checkpoint
save and by ``play.py``. The MuJoCo sim-to-sim runtime and the ROS 2 node read it
without the training stack, so this module imports only numpy, yaml and the standard
library (never torch, warp or mjlab). See ``docs/deploy_contract.md`` for the schema.

Action law (per joint i, in ``joint_names`` order)::

    q_ref_i = clip(policy_output_i * action.scale[i] + action.offset[i], action.clip[i])
    tau_i   = kp_i * (q_ref_i - q_i) - kd_i * qd_i, limited to +-effort_limit_i

The policy input is the concatenation, in order, of ``observations``: each term is
computed, clipped to ``clip``, multiplied by ``scale``, and (history_length > 0)
stacked oldest-first over the last ``history_length`` control steps.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import yaml

SCHEMA_VERSION = 1
_FIX = "fix it in deploy.yaml or re-export the policy."


class ContractError(ValueError):
  """A deploy.yaml that is missing fields, has inconsistent sizes or a wrong version."""


@dataclass
class RobotModel:
  """Which MJCF the policy was trained on."""

  entity_name: str
  """Name of the robot entity in the training scene (e.g. ``robot``)."""
  model_name: str
  """The ``<mujoco model=...>`` name of the robot MJCF."""
  mjcf_path: str | None
  """Path of the robot MJCF on the exporting machine, or None if it was built in code."""
  spec_fn: str
  """``module:qualname`` of the function that builds the robot's MjSpec."""
  sim_mjcf: str | None = None
  """The trained robot as a standalone MJCF (actuators, armature, collision settings), a
  file name relative to the exported folder (``robot.xml``); None in older exports."""


@dataclass
class ActionSpec:
  """How policy outputs become joint position targets."""

  term: str
  """Name of the action term in the training env (e.g. ``joint_pos``)."""
  scale: list[float]
  offset: list[float]
  """Offsets; with ``use_default_offset`` these equal ``default_joint_pos``."""
  clip: list[list[float]] | None
  """Per-joint ``[low, high]`` on the joint target (mjlab clips after scale and offset), or None."""
  raw_clip: float | None = None
  """rsl_rl's ``clip_actions``: raw policy outputs clamped to ``[-raw_clip, raw_clip]`` before
  the env sees them (and observes them as the last action), or None. Omitted from the YAML
  when None, so policies without it load in readers that predate the field."""


@dataclass
class ObservationTerm:
  """One term of the policy observation vector, in order."""

  name: str
  size: int
  """Width of this term in the policy input, history included."""
  func: str
  """``module:qualname`` of the training env's term function."""
  params: dict[str, Any] = field(default_factory=dict)
  """The term's parameters as plain YAML data (entity refs become dicts)."""
  scale: float | list[float] | None = None
  clip: list[float] | None = None
  history_length: int = 0
  flatten_history_dim: bool = True


@dataclass
class CommandSpec:
  """A command term and the ranges it was sampled from in training."""

  name: str
  type: str
  """``module:qualname`` of the command cfg class."""
  ranges: dict[str, list[float]] = field(default_factory=dict)
  """E.g. ``lin_vel_x: [-1.0, 1.0]``; empty when the command has no ranges."""
  goals: str | None = None
  """Motion-conditioned commands: a ``.npz`` beside deploy.yaml holding the command per
  control step of the reference clip (``legged_robots.deploy.motion_goals``); omitted
  for commands the operator gives (velocity)."""
  adds: str | None = None
  """A command the operator gives, plus a clip's base velocity (st_gym's
  ``BaseVelocityCommand``): the name of the replayed command whose goal table holds it
  (``base_velocity``, one (vx, vy, wz) row per goal row, added as the goals are replayed).
  Omitted when None."""


@dataclass
class PolicySpec:
  """The ONNX file and its signature."""

  file: str
  input_names: list[str]
  output_names: list[str]
  obs_dim: int
  action_dim: int
  recurrent: bool = False
  rnn_type: str | None = None
  rnn_hidden_dim: int | None = None
  rnn_num_layers: int | None = None


@dataclass
class DeployContract:
  """The whole contract; one instance per exported policy."""

  task: str
  robot: RobotModel
  joint_names: list[str]
  """Joints in policy (action) order."""
  default_joint_pos: list[float]
  stiffness: list[float]
  """kp per joint, policy order."""
  damping: list[float]
  """kd per joint, policy order."""
  effort_limit: list[float]
  """|tau| limit per joint in N·m (inf when unlimited)."""
  action: ActionSpec
  physics_dt: float
  decimation: int
  step_dt: float
  """Control period = physics_dt * decimation."""
  observations: list[ObservationTerm]
  commands: list[CommandSpec]
  policy: PolicySpec
  schema_version: int = SCHEMA_VERSION

  def validate(self) -> None:
    """Raise ContractError naming the first inconsistency."""
    if self.schema_version != SCHEMA_VERSION:
      raise ContractError(
        f"deploy.yaml has schema_version {self.schema_version}, this reader knows "
        f"{SCHEMA_VERSION}: re-export the policy with play.py from this st_gym version."
      )
    n = len(self.joint_names)
    per_joint: dict[str, list[Any]] = {
      "default_joint_pos": self.default_joint_pos,
      "stiffness": self.stiffness,
      "damping": self.damping,
      "effort_limit": self.effort_limit,
      "action.scale": self.action.scale,
      "action.offset": self.action.offset,
    }
    if self.action.clip is not None:
      per_joint["action.clip"] = self.action.clip
    for name, values in per_joint.items():
      if not isinstance(values, list):
        raise ContractError(f"{name} must be a list with one entry per joint, got {values!r}")
      if len(values) != n:
        raise ContractError(
          f"{name} has {len(values)} entries but joint_names has {n}: "
          "every per-joint list must follow joint_names."
        )
    _check_numbers("default_joint_pos", self.default_joint_pos)
    _check_numbers("action.scale", self.action.scale)
    _check_numbers("action.offset", self.action.offset)
    _check_numbers("stiffness", self.stiffness, minimum=0.0)
    _check_numbers("damping", self.damping, minimum=0.0)
    _check_numbers("effort_limit", self.effort_limit, minimum=0.0, strict=True, allow_inf=True)
    for i, pair in enumerate(self.action.clip or []):
      if not isinstance(pair, list) or len(pair) != 2:
        raise ContractError(f"action.clip[{i}] must be [low, high], got {pair!r}")
      _check_numbers(f"action.clip[{i}]", pair, allow_inf=True)
    _check_numbers("physics_dt", [self.physics_dt], minimum=0.0, strict=True)
    if not isinstance(self.decimation, int) or isinstance(self.decimation, bool) or self.decimation < 1:
      raise ContractError(f"decimation must be an integer >= 1, got {self.decimation!r}")
    if n != self.policy.action_dim:
      raise ContractError(f"policy.action_dim={self.policy.action_dim} but {n} joints")
    if self.action.raw_clip is not None and not self.action.raw_clip > 0:
      raise ContractError(f"action.raw_clip={self.action.raw_clip} must be positive (or null for no clip)")
    obs_total = sum(term.size for term in self.observations)
    if obs_total != self.policy.obs_dim:
      raise ContractError(f"observation terms sum to {obs_total} but policy.obs_dim={self.policy.obs_dim}")
    if not np.isclose(self.physics_dt * self.decimation, self.step_dt, rtol=1e-9):
      raise ContractError(
        f"step_dt={self.step_dt} != physics_dt*decimation={self.physics_dt * self.decimation}"
      )
    replayed = {c.name for c in self.commands if c.goals is not None}
    for c in self.commands:
      if c.adds is not None and c.adds not in replayed:
        raise ContractError(
          f"commands[{c.name}].adds names {c.adds!r}, which is no command with a goal table "
          f"({sorted(replayed)}): {_FIX}"
        )
    if self.policy.recurrent and self.policy.rnn_type not in ("lstm", "gru"):
      raise ContractError(f"recurrent policy with rnn_type={self.policy.rnn_type!r}")

  def to_dict(self) -> dict[str, Any]:
    data = asdict(self)
    if data["action"]["raw_clip"] is None:
      del data["action"]["raw_clip"]
    for command in data["commands"]:
      for key in ("goals", "adds"):
        if command[key] is None:
          del command[key]
    return data

  @classmethod
  def from_dict(cls, data: dict[str, Any]) -> DeployContract:
    """Build from plain data; unknown or missing keys are errors naming the key."""
    nested = {
      "robot": RobotModel,
      "action": ActionSpec,
      "policy": PolicySpec,
    }
    kwargs = _checked_kwargs(cls, data, "deploy.yaml")
    for key, sub_cls in nested.items():
      kwargs[key] = sub_cls(**_checked_kwargs(sub_cls, data[key], key))
    kwargs["observations"] = [
      ObservationTerm(**_checked_kwargs(ObservationTerm, term, f"observations[{i}]"))
      for i, term in enumerate(data["observations"])
    ]
    kwargs["commands"] = [
      CommandSpec(**_checked_kwargs(CommandSpec, term, f"commands[{i}]"))
      for i, term in enumerate(data["commands"])
    ]
    contract = cls(**kwargs)
    contract.validate()
    return contract

  def save(self, path: str | os.PathLike[str]) -> None:
    """Validate, then write YAML atomically (temp file in the same folder + rename)."""
    self.validate()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
      with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
      umask = os.umask(0)
      os.umask(umask)
      os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual mode
      os.replace(tmp, path)
    except BaseException:
      Path(tmp).unlink(missing_ok=True)
      raise

  @classmethod
  def load(cls, path: str | os.PathLike[str]) -> DeployContract:
    path = Path(path)
    if not path.is_file():
      raise ContractError(f"no deploy contract at {path}: export the policy first")
    try:
      with open(path) as f:
        data = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
      detail = " ".join(str(e).split())
      raise ContractError(f"cannot read {path}: {detail}. Fix the YAML, or re-export the policy.") from e
    if not isinstance(data, dict):
      raise ContractError(f"{path} is not a YAML mapping")
    try:
      return cls.from_dict(data)
    except ContractError as e:
      raise ContractError(f"{path}: {e}") from e


def _check_numbers(
  name: str, values: list[Any], minimum: float | None = None, strict: bool = False, allow_inf: bool = False
) -> None:
  """Every entry a real number, finite (or +-inf when allowed), >= minimum (> with strict)."""
  for i, v in enumerate(values):
    where = f"{name}[{i}]" if len(values) > 1 or name[-1] == "]" else name
    if isinstance(v, bool) or not isinstance(v, (int, float)):
      raise ContractError(f"{where} must be a number, got {v!r}: {_FIX}")
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
      raise ContractError(f"{where} must be finite, got {v}: {_FIX}")
    if minimum is not None and (v <= minimum if strict else v < minimum):
      bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
      raise ContractError(f"{where} must be {bound}, got {v}: {_FIX}")


def _checked_kwargs(cls: type, data: Any, where: str) -> dict[str, Any]:
  """Return data as kwargs for dataclass cls, rejecting unknown and missing keys."""
  if not isinstance(data, dict):
    raise ContractError(f"{where} must be a mapping, got {type(data).__name__}")
  names = {f.name for f in fields(cls)}
  required = {
    f.name
    for f in fields(cls)
    if f.default is f.default_factory  # both MISSING: the field has no default
  }
  unknown = sorted(set(data) - names)
  if unknown:
    raise ContractError(f"{where}: unknown keys {unknown}; known: {sorted(names)}")
  missing = sorted(required - set(data))
  if missing:
    raise ContractError(f"{where}: missing keys {missing}")
  return dict(data)
