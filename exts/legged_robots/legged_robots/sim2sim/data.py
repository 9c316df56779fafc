"""Plain data of the sim2sim parity check: both sides' interface, the samples, the report.

``parity.py`` fills ``EnvInterface`` and ``Samples`` from the training env and the deploy
runtime; ``causes.py`` turns them into ``Cause``s; ``ParityReport`` is what the
check returns, prints and writes as JSON.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

CauseKind = Literal[
  "joint_order",
  "default_pose",
  "scale",
  "frame",
  "gain",
  "timing",
  "action_clip",
  "layout",
  "export",
  "unexplained",
]


@dataclass
class Cause:
  """One diagnosed mismatch."""

  kind: CauseKind
  subjects: list[str]
  """The joints or observation terms it concerns."""
  message: str


@dataclass
class TermInfo:
  """One actor observation term as the training env computes it."""

  name: str
  frame_size: int
  """Width of one step of the term (without history)."""
  history_length: int
  scale: float | list[float] | None
  columns: list[str] | None
  """Joint of each column for joint-indexed terms (joint_pos, last action...), else None."""
  is_last_action: bool


@dataclass
class EnvInterface:
  """The training env's side of the policy interface, read once from the built env."""

  action_names: list[str]
  """Joint driven by each policy output, in the env's action order."""
  action_scale: np.ndarray
  action_offset: np.ndarray
  default_joint_pos: dict[str, float]
  kp: dict[str, np.ndarray]
  """Per joint, the stiffness of its actuator in every simulated world."""
  kd: dict[str, np.ndarray]
  effort_limit: dict[str, np.ndarray]
  physics_dt: float
  decimation: int
  terms: list[TermInfo]
  clip_actions: float | None = None
  """rsl_rl's agent.clip_actions: the training wrapper clamps raw actions to +-this."""

  def as_trained(self, actions: np.ndarray) -> np.ndarray:
    """Raw policy outputs as the training env received them (after rsl_rl's clamp)."""
    c = self.clip_actions
    return actions if c is None else np.clip(actions, -c, c)


@dataclass
class Samples:
  """What both sides produced at the K sampled states (arrays stacked over samples)."""

  quat: np.ndarray
  """(K, 4) base orientation w, x, y, z."""
  terms_env: dict[str, np.ndarray]
  """Per term, (K, frame_size): the env's current step of the term."""
  terms_rt: dict[str, np.ndarray]
  """Per term, (K, frame_size): ``runtime.compute_terms``."""
  blocks_env: dict[str, np.ndarray]
  """Per term, its block of the env's policy input (history included)."""
  blocks_rt: dict[str, np.ndarray]
  """Per term, the same block of ``runtime.observe``."""
  action_prev: np.ndarray
  """(K, n) the env's previous raw action a[t-1] (what its last-action term shows)."""
  action_prev2: np.ndarray
  """(K, n) the raw action before that, a[t-2]."""
  action_env: np.ndarray
  """(K, n) ONNX on the env's observation: the action the env applies."""
  action_rt: np.ndarray
  """(K, n) ``runtime.step`` on the same state (its stored ``last_action``)."""
  action_actor: np.ndarray | None
  """(K, n) the torch actor on the env's observation, when a checkpoint was given."""
  target_raw: np.ndarray
  """(M, n) raw actions whose joint targets were compared (M <= K: resets dropped)."""
  target_env: np.ndarray
  """(M, n) the env's joint position targets, in deploy.yaml joint order (by name)."""
  target_rt: np.ndarray
  """(M, n) ``runtime.joint_targets`` of the same raw actions."""


@dataclass
class ParityReport:
  """Max |runtime - training| per item over all sampled states, and the diagnosed causes."""

  task: str
  policy_dir: str
  num_states: int
  tol: float
  observations: dict[str, float]
  """Per actor term: this step's value (after clip and scale)."""
  policy_input: dict[str, float]
  """Per actor term: its block of the full policy input, history included."""
  actions: dict[str, float]
  """Per policy output, named by the joint it drives in training."""
  actor: dict[str, float] | None
  """Per policy output: ONNX vs the checkpoint's torch actor on the same input (None: no checkpoint)."""
  targets: dict[str, float]
  """Per joint: joint position target (rad)."""
  gains: dict[str, dict[str, float]]
  """Per joint: relative difference of kp, kd and effort limit."""
  timing: dict[str, float]
  """physics_dt: relative difference, decimation: absolute difference (deploy.yaml vs env);
  action.raw_clip: 1 when deploy.yaml clamps raw actions unlike agent.clip_actions."""
  causes: list[Cause] = field(default_factory=list)
  worst_term: str = ""
  worst_term_diff: float = 0.0
  worst_joint: str = ""
  worst_joint_diff: float = 0.0
  passed: bool = False

  def finish(self) -> None:
    """Fill the worst term/joint and the verdict from the tables."""
    terms = {
      **self.observations,
      **{k: max(v, self.observations.get(k, 0.0)) for k, v in self.policy_input.items()},
    }
    self.worst_term, self.worst_term_diff = _argmax(terms)
    joints: dict[str, float] = {}
    for table in (self.actions, self.targets, self.actor or {}):
      for name, value in table.items():
        joints[name] = max(joints.get(name, 0.0), value)
    self.worst_joint, self.worst_joint_diff = _argmax(joints)
    worst_gain = max((max(row.values()) for row in self.gains.values()), default=0.0)
    self.passed = (
      max(self.worst_term_diff, self.worst_joint_diff, worst_gain, *self.timing.values()) <= self.tol
    )

  def to_dict(self) -> dict[str, Any]:
    return asdict(self)

  def summary(self) -> str:
    """Per-term and per-joint tables, the verdict and the causes, for the console."""
    ok = lambda v: "ok" if v <= self.tol else "MISMATCH"  # noqa: E731
    lines = [
      f"sim2sim parity of {self.policy_dir} vs task {self.task}: {self.num_states} states, tol {self.tol:g}"
    ]
    lines.append(f"{'observation term':<24}{'this step':>12}{'with history':>14}")
    for name, value in self.observations.items():
      block = self.policy_input.get(name, math.inf)
      lines.append(f"{name:<24}{value:>12.3g}{block:>14.3g}  {ok(max(value, block))}")
    header = f"{'joint':<28}{'action':>10}{'target':>10}{'kp/kd/lim':>11}"
    lines.append(header + (f"{'torch/onnx':>12}" if self.actor is not None else ""))
    for name in self.targets:
      gain = max(self.gains[name].values())
      row = f"{name:<28}{self.actions.get(name, math.nan):>10.3g}{self.targets[name]:>10.3g}{gain:>11.3g}"
      worst = max(self.actions.get(name, 0.0), self.targets[name], gain)
      if self.actor is not None:
        row += f"{self.actor.get(name, math.nan):>12.3g}"
        worst = max(worst, self.actor.get(name, 0.0))
      lines.append(f"{row}  {ok(worst)}")
    for key, value in self.timing.items():
      lines.append(f"{key:<28}{value:>10.3g}  {ok(value)}")
    lines.append(
      f"worst term: {self.worst_term} ({self.worst_term_diff:.3g}); "
      f"worst joint: {self.worst_joint} ({self.worst_joint_diff:.3g})"
    )
    lines.append(
      "PASS: the runtime reproduces training" if self.passed else "FAIL: the runtime differs from training"
    )
    lines += [f"  cause [{c.kind}] {c.message}" for c in self.causes]
    return "\n".join(lines)


def _argmax(table: dict[str, float]) -> tuple[str, float]:
  if not table:
    return "", 0.0
  name = max(table, key=lambda k: table[k])
  return name, table[name]
