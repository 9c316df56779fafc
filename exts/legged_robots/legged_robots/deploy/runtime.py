"""``PolicyRuntime``: run an exported policy from ``exported/`` alone (numpy + onnxruntime).

One control step, exactly as the training env computes it (see ``docs/deploy_contract.md``):

    obs      = concat over terms of history(scale * clip(term(state)))      # float32
    raw      = clip(onnx(obs [, rnn state]), -action.raw_clip, action.raw_clip)  # next last_action
    q_ref    = clip(raw * action.scale + action.offset, action.clip)         # mjlab clips targets
    tau      = clip(kp * (q_ref - q) - kd * qd, -effort_limit, effort_limit)  # done by the motor/sim

History follows mjlab's CircularBuffer: oldest first, and the first observation after a
reset fills every slot.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np
import onnxruntime as ort

from legged_robots.deploy.contract import DeployContract, ObservationTerm
from legged_robots.deploy.errors import (
  DeployError,
  MissingFileError,
  NonFiniteActionError,
  PolicyMismatchError,
)
from legged_robots.deploy.observations import BuiltTerm, RobotState, TermInputs, build_term

CONTRACT_FILE = "deploy.yaml"

__all__ = [
  "DeployError",
  "MissingFileError",
  "NonFiniteActionError",
  "PolicyMismatchError",
  "PolicyRuntime",
  "RobotState",
]


def load_contract(folder: Path) -> DeployContract:
  path = folder / CONTRACT_FILE
  if not path.is_file():
    raise MissingFileError(
      f"no {CONTRACT_FILE} in {folder}: pass the exported/ folder of a run (train.py and play.py write it)."
    )
  return DeployContract.load(path)


def open_session(onnx_path: Path, options: ort.SessionOptions | None = None) -> ort.InferenceSession:
  """An onnxruntime CPU session, or PolicyMismatchError for a truncated or foreign file."""
  try:
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
  except Exception as e:  # onnxruntime raises its own exception classes (InvalidProtobuf, Fail, ...)
    detail = " ".join(str(e).split())[:300]
    raise PolicyMismatchError(
      f"cannot load {onnx_path} ({type(e).__name__}: {detail}): the file is truncated or not an ONNX "
      "model. Re-export the policy (play.py writes exported/)."
    ) from None


def _static_dims(shape: list) -> list[int | None]:
  return [d if isinstance(d, int) else None for d in shape]


class PolicyRuntime:
  """Observation builder + ONNX policy + action law of one exported policy."""

  def __init__(self, folder: str | Path, contract: DeployContract | None = None, threads: int = 1):
    folder = Path(folder)
    self.folder = folder
    """The exported folder (files beside deploy.yaml: policy, robot, goal tables)."""
    self.contract = load_contract(folder) if contract is None else contract
    self.contract.validate()
    c = self.contract
    onnx_path = folder / c.policy.file
    if not onnx_path.is_file():
      raise MissingFileError(f"no policy file {onnx_path} (deploy.yaml policy.file): re-export the policy.")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    self._session = open_session(onnx_path, options)
    self._check_signature(onnx_path)
    self.metadata: dict[str, str] = dict(self._session.get_modelmeta().custom_metadata_map)
    """The exporter's ONNX metadata_props (task, joint names, iteration, ...)."""

    self._terms: list[tuple[ObservationTerm, BuiltTerm]] = [(t, build_term(t, c)) for t in c.observations]
    self._command_sizes: dict[str, int] = {cmd.name: 0 for cmd in c.commands}
    for _, built in self._terms:
      if built.command_name is not None:
        self._command_sizes[built.command_name] = built.frame_size
    self._commands = {name: np.zeros(size) for name, size in self._command_sizes.items()}
    self._scale = [None if t.scale is None else np.asarray(t.scale, dtype=np.float64) for t in c.observations]
    self._kp = np.asarray(c.stiffness, dtype=np.float64)
    self._kd = np.asarray(c.damping, dtype=np.float64)
    self._effort = np.asarray(c.effort_limit, dtype=np.float64)
    self._action_scale = np.asarray(c.action.scale, dtype=np.float64)
    self._action_offset = np.asarray(c.action.offset, dtype=np.float64)
    clip = None if c.action.clip is None else np.asarray(c.action.clip, dtype=np.float64)
    self._target_clip = clip
    self._default_joint_pos = np.asarray(c.default_joint_pos, dtype=np.float64)
    self._history: list[deque[np.ndarray] | None] = [None] * len(self._terms)
    self._rnn_state: list[np.ndarray] = []
    self.last_action = np.zeros(c.policy.action_dim)
    self.reset()

  def _check_signature(self, onnx_path: Path) -> None:
    """Names, obs/action widths and recurrent state shapes of the graph vs the contract."""
    p = self.contract.policy
    inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
    in_names, out_names = [i.name for i in inputs], [o.name for o in outputs]
    if in_names != p.input_names or out_names != p.output_names:
      raise PolicyMismatchError(
        f"{onnx_path} has inputs {in_names} -> outputs {out_names}, deploy.yaml says "
        f"{p.input_names} -> {p.output_names}: the policy and deploy.yaml come from different exports."
      )
    obs_dims = _static_dims(inputs[0].shape)
    act_dims = _static_dims(outputs[0].shape)
    if obs_dims[-1] not in (None, p.obs_dim):
      raise PolicyMismatchError(
        f"{onnx_path} takes {obs_dims[-1]} observations but deploy.yaml's observation terms sum to "
        f"{p.obs_dim}: the policy and deploy.yaml come from different exports."
      )
    if act_dims[-1] not in (None, p.action_dim):
      raise PolicyMismatchError(
        f"{onnx_path} outputs {act_dims[-1]} actions but deploy.yaml has {p.action_dim} joints: "
        "the policy and deploy.yaml come from different exports."
      )
    state_inputs = inputs[1:]
    if bool(state_inputs) != p.recurrent:
      raise PolicyMismatchError(
        f"{onnx_path} has {len(state_inputs)} recurrent state inputs but deploy.yaml says "
        f"recurrent={p.recurrent}."
      )
    expected = [p.rnn_num_layers, 1, p.rnn_hidden_dim]
    for state in state_inputs:
      dims = _static_dims(state.shape)
      if any(d is not None and d != e for d, e in zip(dims, expected, strict=True)):
        raise PolicyMismatchError(
          f"{onnx_path} state input {state.name} has shape {state.shape}, deploy.yaml says "
          f"(layers, 1, hidden) = {expected}."
        )

  # --- memory -------------------------------------------------------------------------

  def reset(self) -> None:
    """Start an episode: zero last action, history and RNN state; commands are kept."""
    self.last_action = np.zeros(self.contract.policy.action_dim)
    self._history = [None] * len(self._terms)
    p = self.contract.policy
    if p.recurrent:
      assert p.rnn_num_layers is not None and p.rnn_hidden_dim is not None
      shape = (p.rnn_num_layers, 1, p.rnn_hidden_dim)
      self._rnn_state = [np.zeros(shape, dtype=np.float32) for _ in p.input_names[1:]]

  def set_command(self, name: str, value: np.ndarray) -> None:
    """Set command ``name`` (e.g. base_velocity = [vx, vy, wz]) used by later observations."""
    if name not in self._commands:
      raise DeployError(f"unknown command {name!r}; the contract has {sorted(self._commands)}")
    value = np.asarray(value, dtype=np.float64).reshape(-1)
    size = self._command_sizes[name]
    if size and value.shape != (size,):
      raise DeployError(f"command {name!r} takes {size} values, got {value.shape[0]}")
    self._commands[name] = value.copy()

  @property
  def commands(self) -> dict[str, np.ndarray]:
    return {name: v.copy() for name, v in self._commands.items()}

  # --- observation --------------------------------------------------------------------

  def _check_state(self, state: RobotState) -> None:
    n = len(self.contract.joint_names)
    for field, width in (("base_quat", 4), ("base_ang_vel", 3), ("base_lin_vel", 3)):
      if np.shape(getattr(state, field)) != (width,):
        raise DeployError(f"RobotState.{field} has shape {np.shape(getattr(state, field))}, needs ({width},)")
    for field in ("joint_pos", "joint_vel"):
      if np.shape(getattr(state, field)) != (n,):
        raise DeployError(
          f"RobotState.{field} has shape {np.shape(getattr(state, field))}, needs ({n},) in joint_names order"
        )

  def compute_terms(self, state: RobotState) -> dict[str, np.ndarray]:
    """Every term of this step after clip then scale, contract order, no history; no side effects."""
    self._check_state(state)
    inputs = TermInputs(self._default_joint_pos, self.last_action, self._commands)
    out: dict[str, np.ndarray] = {}
    for (term, built), scale in zip(self._terms, self._scale, strict=True):
      value = np.asarray(built.fn(state, inputs), dtype=np.float64)
      if term.clip is not None:
        value = np.clip(value, term.clip[0], term.clip[1])
      if scale is not None:
        value = value * scale
      out[term.name] = value
    return out

  def observe(self, state: RobotState) -> np.ndarray:
    """The policy input (float32, (obs_dim,)); advances the history buffers."""
    terms = self.compute_terms(state)
    parts = []
    for i, (term, _) in enumerate(self._terms):
      value = terms[term.name]
      if term.history_length > 0:
        history = self._history[i]
        if history is None:  # first frame after reset fills every slot (mjlab backfill)
          history = deque([value] * term.history_length, maxlen=term.history_length)
          self._history[i] = history
        else:
          history.append(value)
        value = np.concatenate(list(history))
      parts.append(value)
    return np.concatenate(parts).astype(np.float32)

  # --- policy and action law ----------------------------------------------------------

  def infer(self, obs: np.ndarray) -> np.ndarray:
    """Raw policy output (action_dim,); carries the RNN state; NaN/inf is an error."""
    p = self.contract.policy
    obs = np.asarray(obs, dtype=np.float32).reshape(1, p.obs_dim)
    feed = {p.input_names[0]: obs}
    feed.update(zip(p.input_names[1:], self._rnn_state, strict=True))
    outputs = self._session.run(p.output_names, feed)
    actions = np.asarray(outputs[0], dtype=np.float64).reshape(p.action_dim)
    if not np.all(np.isfinite(actions)):
      bad = [self.contract.joint_names[i] for i in np.flatnonzero(~np.isfinite(actions))]
      raise NonFiniteActionError(
        f"policy returned NaN/inf for {len(bad)} joints ({bad[:5]}...): hold the last good target and "
        "check the observation (a NaN sensor reading, an unstable state) or the checkpoint."
      )
    if p.recurrent:
      self._rnn_state = [np.asarray(s, dtype=np.float32) for s in outputs[1:]]
    return actions

  def step(self, state: RobotState) -> np.ndarray:
    """observe -> infer -> clip as rsl_rl's clip_actions -> remember it -> joint targets."""
    raw = self.clip_raw(self.infer(self.observe(state)))
    self.last_action = raw.copy()
    return self.joint_targets(raw)

  def clip_raw(self, actions: np.ndarray) -> np.ndarray:
    """Raw actions as the training env received them: clamped to +-action.raw_clip if set."""
    limit = self.contract.action.raw_clip
    return actions if limit is None else np.clip(actions, -limit, limit)

  def joint_targets(self, actions: np.ndarray) -> np.ndarray:
    """q_ref = clip(actions * scale + offset, action.clip): mjlab 1.6 clips the target."""
    q_ref = np.asarray(actions, dtype=np.float64) * self._action_scale + self._action_offset
    if self._target_clip is not None:
      q_ref = np.clip(q_ref, self._target_clip[:, 0], self._target_clip[:, 1])
    return q_ref

  def pd_torques(self, q_ref: np.ndarray, q: np.ndarray, qd: np.ndarray) -> np.ndarray:
    """kp (q_ref - q) - kd qd, limited to +-effort_limit (a MuJoCo position actuator's force)."""
    tau = self._kp * (np.asarray(q_ref) - q) - self._kd * np.asarray(qd)
    return np.clip(tau, -self._effort, self._effort)
