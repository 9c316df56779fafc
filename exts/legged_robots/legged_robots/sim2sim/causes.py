"""Why the deploy runtime and the training env disagree: hypothesis tests on parity samples.

Each test asks whether one usual deployment mistake (joint order, default pose, scale,
frame, gain, timing, observation layout) explains a measured difference, and names the
joint or term with the numbers on both sides. A hypothesis *explains* a difference when,
once applied, what is left is float noise: at most ``max(tol, 1e-3 * |difference|)``.
Numpy only: the samples are recorded by ``parity.py``; these tests never touch the env.
"""

from __future__ import annotations

import numpy as np

from legged_robots.deploy import DeployContract
from legged_robots.sim2sim.data import Cause, EnvInterface, Samples, TermInfo

NOISE_FRACTION = 1e-3
"""A residual this small relative to the difference it explains is float noise."""


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
  """Rotate vectors v (K, 3) by unit quaternions q (K, 4, w first): body -> world."""
  w, u = q[:, :1], q[:, 1:]
  t = 2.0 * np.cross(u, v)
  return v + w * t + np.cross(u, t)


def quat_rotate_inverse(q: np.ndarray, v: np.ndarray) -> np.ndarray:
  """Rotate vectors v (K, 3) by the inverse of q: world -> body."""
  return quat_rotate(q * np.array([1.0, -1.0, -1.0, -1.0]), v)


def yaw_quat(q: np.ndarray) -> np.ndarray:
  """The heading part of q (rotation about world z only)."""
  w, x, y, z = q.T
  yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
  zero = np.zeros_like(yaw)
  return np.stack([np.cos(yaw / 2), zero, zero, np.sin(yaw / 2)], axis=1)


def _explained(residual: np.ndarray, diff: np.ndarray, tol: float) -> bool:
  return float(np.abs(residual).max(initial=0.0)) <= max(tol, NOISE_FRACTION * float(np.abs(diff).max()))


def _mismatch(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
  return a.size > 0 and float(np.abs(a - b).max()) > tol


def diagnose(contract: DeployContract, env: EnvInterface, s: Samples, tol: float) -> list[Cause]:
  """Every cause found; mismatches no hypothesis explains come back as ``unexplained``."""
  causes = _timing_config(contract, env, tol) + _gains(contract, env, tol)
  moved = {
    t.name: _column_permutation(s.terms_rt[t.name], s.terms_env[t.name], tol)
    for t in _joint_terms(env, s, tol)
  }
  order = _joint_order(contract, env, moved)
  causes += order
  permuted = {j for c in order for j in c.subjects}
  for term in env.terms:
    causes += _term_causes(term, contract, env, s, tol, moved.get(term.name, {}))
  causes += _block_causes(env, s, tol)
  causes += _target_causes(contract, env, s, tol, permuted)
  input_ok = all(
    t.name in s.blocks_rt and not _mismatch(s.blocks_rt[t.name], s.blocks_env[t.name], tol) for t in env.terms
  )
  if input_ok and _mismatch(s.action_rt, s.action_env, tol):
    causes.append(_step_cause(s, tol))
  if s.action_actor is not None and _mismatch(s.action_actor, s.action_env, tol):
    worst = float(np.abs(s.action_actor - s.action_env).max())
    causes.append(
      Cause(
        "export",
        ["policy.onnx"],
        f"export: on the same observation the ONNX policy differs from the checkpoint's actor by "
        f"{worst:.3g}; re-export the checkpoint (play.py) and check the ONNX graph.",
      )
    )
  return causes


def _timing_config(contract: DeployContract, env: EnvInterface, tol: float) -> list[Cause]:
  causes = []
  if (
    contract.decimation != env.decimation or abs(contract.physics_dt - env.physics_dt) > tol * env.physics_dt
  ):
    causes.append(
      Cause(
        "timing",
        ["decimation", "physics_dt"],
        f"timing: deploy.yaml runs the policy every {contract.decimation} x {contract.physics_dt} s, "
        f"training every {env.decimation} x {env.physics_dt} s.",
      )
    )
  if contract.action.raw_clip != env.clip_actions:
    causes.append(
      Cause(
        "action_clip",
        ["action.raw_clip"],
        f"action clip: training clamps raw actions to +-{env.clip_actions} (agent.clip_actions; None = no "
        f"clamp), deploy.yaml to +-{contract.action.raw_clip} (action.raw_clip): re-export the checkpoint.",
      )
    )
  return causes


def relative_gain_diffs(contract: DeployContract, env: EnvInterface) -> dict[str, dict[str, float]]:
  """Per joint, |deploy.yaml - env| / |env| of kp, kd and effort limit (worst world)."""
  out = {}
  for i, name in enumerate(contract.joint_names):
    row = {}
    for key, mine, theirs in (
      ("kp", contract.stiffness[i], env.kp[name]),
      ("kd", contract.damping[i], env.kd[name]),
      ("effort_limit", contract.effort_limit[i], env.effort_limit[name]),
    ):
      with np.errstate(invalid="ignore"):
        diff = np.where(theirs == mine, 0.0, np.abs(mine - theirs) / np.maximum(np.abs(theirs), 1e-12))
      row[key] = float(np.nan_to_num(diff, nan=np.inf).max())
    out[name] = row
  return out


def _gains(contract: DeployContract, env: EnvInterface, tol: float) -> list[Cause]:
  causes = []
  env_values = {"kp": env.kp, "kd": env.kd, "effort_limit": env.effort_limit}
  mine = {"kp": contract.stiffness, "kd": contract.damping, "effort_limit": contract.effort_limit}
  for name, row in relative_gain_diffs(contract, env).items():
    i = contract.joint_names.index(name)
    bad = [key for key, rel in row.items() if rel > tol]
    if bad:
      parts = [
        f"{k} {mine[k][i]:.6g} in deploy.yaml, the env's actuator uses "
        f"{_worst(env_values[k][name], mine[k][i]):.6g}"
        for k in bad
      ]
      causes.append(Cause("gain", [name], f"gain of {name}: " + "; ".join(parts) + "."))
  return causes


def _worst(values: np.ndarray, reference: float) -> float:
  return float(values.flat[int(np.argmax(np.abs(values - reference)))])


def _joint_terms(env: EnvInterface, s: Samples, tol: float) -> list[TermInfo]:
  """Mismatching terms with one column per joint of the robot state (not the last action)."""
  return [
    t
    for t in env.terms
    if t.columns is not None
    and not t.is_last_action
    and t.name in s.terms_rt
    and _mismatch(s.terms_rt[t.name], s.terms_env[t.name], tol)
  ]


def _joint_order(
  contract: DeployContract, env: EnvInterface, per_term: dict[str, dict[int, int]]
) -> list[Cause]:
  """Runtime columns of joint-indexed terms that equal *other* training columns (up to an offset)."""
  moved: dict[int, int] = {}
  labels: list[str] = []
  for term in env.terms:
    if per_term.get(term.name):
      assert term.columns is not None
      labels = term.columns
      moved.update(per_term[term.name])
  if not moved:
    return []
  pairs, seen = [], set()
  for k, m in sorted(moved.items()):
    if k in seen:
      continue
    seen.update((k, m))
    if moved.get(m) == k:
      pairs.append(f"joints {labels[k]} and {labels[m]} are swapped")
    else:
      pairs.append(f"the runtime puts {labels[m]} at position {k}, where training has {labels[k]}")
  differing = [
    f"{i}: {c} (env: {e})"
    for i, (c, e) in enumerate(zip(contract.joint_names, env.action_names, strict=True))
    if c != e
  ]
  evidence = (
    f" deploy.yaml joint_names differ from the env's action order at {differing}." if differing else ""
  )
  joints = sorted({labels[k] for k in moved} | {labels[m] for m in moved.values()})
  return [Cause("joint_order", joints, "joint order: " + "; ".join(pairs) + "." + evidence)]


def _column_permutation(rt: np.ndarray, tr: np.ndarray, tol: float) -> dict[int, int]:
  """{k: m} for runtime columns k that equal training column m != k up to a constant."""
  spread = np.ptp(rt[:, :, None] - tr[:, None, :], axis=0)  # (k, m): equal up to a constant -> 0
  limit = max(tol, NOISE_FRACTION * float(np.abs(rt - tr).max()))
  moved = {}
  for k in range(rt.shape[1]):
    if spread[k, k] <= limit:
      continue
    (matches,) = np.nonzero(spread[k] <= limit)
    if len(matches) == 1:
      moved[k] = int(matches[0])
  return moved


def _term_causes(
  term: TermInfo, contract: DeployContract, env: EnvInterface, s: Samples, tol: float, moved: dict[int, int]
) -> list[Cause]:
  """Test default pose, frame, timing and scale on one term, after undoing a joint permutation."""
  name = term.name
  if name not in s.terms_rt:
    return []  # a term missing on one side is a layout cause, found by _block_causes
  source = [moved.get(k, k) for k in range(s.terms_env[name].shape[1])]
  rt, tr = s.terms_rt[name], s.terms_env[name][:, source]
  if not _mismatch(rt, tr, tol):
    return []
  diff = rt - tr
  if term.columns is not None and not term.is_last_action:
    offsets = _default_pose(term, [term.columns[m] for m in source], contract, env, diff, tol)
    if offsets is not None:
      return offsets
  if term.frame_size == 3 and term.columns is None:
    frame = _frame(name, rt, tr, s.quat, tol)
    if frame is not None:
      return [frame]
  if term.is_last_action:
    late = _scaled(term, s.action_prev2)
    if _explained(rt - late, diff, tol):
      return [
        Cause(
          "timing",
          [name],
          f"timing: the runtime's {name} term holds the action of two steps ago; training shows the "
          "previous step's raw action (store last_action right after inference).",
        )
      ]
  scale = _term_scale(term, contract, rt, tr, diff, tol)
  if scale is not None:
    return [scale]
  worst = np.unravel_index(int(np.argmax(np.abs(diff))), diff.shape)[1]
  where = term.columns[worst] if term.columns else f"element {worst}"
  return [
    Cause(
      "unexplained",
      [name],
      f"observation {name} differs by up to {np.abs(diff).max():.3g} ({where}); no tested cause "
      "(joint order, default pose, scale, frame, timing) explains it.",
    )
  ]


def _scaled(term: TermInfo, values: np.ndarray) -> np.ndarray:
  return values if term.scale is None else values * np.asarray(term.scale)


def _default_pose(
  term: TermInfo, joints: list[str], contract: DeployContract, env: EnvInterface, diff: np.ndarray, tol: float
) -> list[Cause] | None:
  """Columns shifted by a constant equal to training default - deploy.yaml default of that joint.

  joints: the joint whose value each runtime column holds. None when a mismatching column
  is not such a shift (another hypothesis must explain the term).
  """
  causes = []
  for k, joint in enumerate(joints):
    d = diff[:, k]
    if np.abs(d).max() <= tol:
      continue
    if np.ptp(d) > max(tol, NOISE_FRACTION * np.abs(d).max()):
      return None
    shift = float(np.median(d))
    if joint not in contract.joint_names:
      return None
    mine = contract.default_joint_pos[contract.joint_names.index(joint)]
    theirs = env.default_joint_pos[joint]
    if abs((theirs - mine) * _column_scale(term, k) - shift) > max(tol, NOISE_FRACTION * abs(shift)):
      return None
    causes.append(
      Cause(
        "default_pose",
        [joint],
        f"default pose of {joint}: deploy.yaml default_joint_pos {mine:.6g}, training {theirs:.6g} "
        f"(the runtime's {term.name} is off by {shift:+.4g} at every state).",
      )
    )
  return causes or None


def _column_scale(term: TermInfo, k: int) -> float:
  if term.scale is None:
    return 1.0
  return float(term.scale[k]) if isinstance(term.scale, list) else float(term.scale)


def _frame(name: str, rt: np.ndarray, tr: np.ndarray, quat: np.ndarray, tol: float) -> Cause | None:
  """Runtime value = the training (base-frame) vector expressed in another frame.

  With R the base orientation, training holds v_b and v_w = R v_b. The hypotheses are what
  a runtime gets from the usual slips: no rotation of a world-frame reading, a heading
  frame, R instead of R^T (or a second R^T), and a quaternion read as (x, y, z, w).
  """
  world = quat_rotate(quat, tr)
  hypotheses = {
    "the world frame (not rotated into the base)": world,
    "the heading (yaw-only) frame": quat_rotate_inverse(yaw_quat(quat), world),
    "a frame built with R instead of R^T": quat_rotate(quat, world),
    "a frame rotated into the base twice": quat_rotate_inverse(quat, tr),
    "a frame built from the quaternion read as (x, y, z, w)": quat_rotate_inverse(
      quat[:, [3, 0, 1, 2]], world
    ),
  }
  for frame, expected in hypotheses.items():
    if _explained(rt - expected, rt - tr, tol):
      return Cause(
        "frame",
        [name],
        f"frame: the runtime's {name} is the training value expressed in {frame}; training uses the "
        "base (root link) frame.",
      )
  return None


def _term_scale(
  term: TermInfo, contract: DeployContract, rt: np.ndarray, tr: np.ndarray, diff: np.ndarray, tol: float
) -> Cause | None:
  """Runtime = a * training per column, a != 1."""
  denom = (tr * tr).sum(axis=0)
  ratio = np.where(denom > 0, (rt * tr).sum(axis=0) / np.maximum(denom, 1e-30), 1.0)
  if not _explained(rt - ratio * tr, diff, tol):
    return None
  mine = next((t.scale for t in contract.observations if t.name == term.name), None)
  shown = f"{float(ratio[0]):.6g}" if np.ptp(ratio) <= tol else np.array2string(ratio, precision=4)
  return Cause(
    "scale",
    [term.name],
    f"scale: the runtime's {term.name} is {shown} x the training value (deploy.yaml scale {mine}, "
    f"training scale {term.scale}).",
  )


def _block_causes(env: EnvInterface, s: Samples, tol: float) -> list[Cause]:
  """Policy-input blocks that differ while the term's current step matches: history or layout."""
  causes = []
  for term in env.terms:
    name = term.name
    if name not in s.blocks_rt:
      causes.append(Cause("layout", [name], f"layout: the runtime has no observation term {name}."))
      continue
    rt, tr = s.blocks_rt[name], s.blocks_env[name]
    frame_ok = name in s.terms_rt and not _mismatch(s.terms_rt[name], s.terms_env[name], tol)
    if not frame_ok or not _mismatch(rt, tr, tol):
      continue
    if term.history_length > 0:
      causes.append(_history_cause(term, rt, tr, tol))
      continue
    twin = next(
      (
        t.name
        for t in env.terms
        if t.name != name
        and s.blocks_env[t.name].shape == rt.shape
        and not _mismatch(rt, s.blocks_env[t.name], tol)
      ),
      None,
    )
    where = f"where training has {twin}" if twin else "in another position than training"
    causes.append(Cause("layout", [name], f"layout: the runtime puts the {name} values {where}."))
  return causes


def _history_cause(term: TermInfo, rt: np.ndarray, tr: np.ndarray, tol: float) -> Cause:
  h = term.history_length
  rt3, tr3 = rt.reshape(len(rt), h, -1), tr.reshape(len(tr), h, -1)
  if not _mismatch(rt3[:, ::-1], tr3, tol):
    what = "stacks its history newest first; training stacks oldest first"
  else:
    what = (
      f"keeps other older frames than training ({h} steps; the current one matches): history must "
      "advance once per control step and be filled with the first frame after a reset"
    )
  return Cause("timing", [term.name], f"timing: the runtime's {term.name} {what}.")


def _target_causes(
  contract: DeployContract, env: EnvInterface, s: Samples, tol: float, permuted: set[str]
) -> list[Cause]:
  """Fit runtime target = slope * raw + intercept per joint; compare with the env's scale/offset."""
  causes = []
  for k, joint in enumerate(contract.joint_names):
    rt, tr = s.target_rt[:, k], s.target_env[:, k]
    if not _mismatch(rt, tr, tol) or joint in permuted or joint not in env.action_names:
      continue
    raw = s.target_raw[:, k].astype(np.float64)
    design = np.stack([raw, np.ones_like(raw)], axis=1)
    (slope, intercept), *_ = np.linalg.lstsq(design, rt, rcond=None)
    affine = _explained(rt - design @ np.array([slope, intercept]), rt - tr, tol)
    e = env.action_names.index(joint)
    scale, offset = float(env.action_scale[e]), float(env.action_offset[e])
    found = []
    if affine and abs(slope - scale) > tol * max(1.0, abs(scale)):
      found.append(
        Cause(
          "scale",
          [joint],
          f"action scale of {joint}: the runtime uses {slope:.6g} (deploy.yaml action.scale "
          f"{contract.action.scale[k]:.6g}), training uses {scale:.6g}.",
        )
      )
    if affine and abs(intercept - offset) > tol * max(1.0, abs(offset)):
      found.append(
        Cause(
          "default_pose",
          [joint],
          f"action offset of {joint}: the runtime adds {intercept:.6g} (deploy.yaml action.offset "
          f"{contract.action.offset[k]:.6g}, default_joint_pos {contract.default_joint_pos[k]:.6g}), "
          f"training adds {offset:.6g} (its default pose {env.default_joint_pos[joint]:.6g}).",
        )
      )
    causes += found or [
      Cause(
        "unexplained",
        [joint],
        f"joint target of {joint} differs by up to {np.abs(rt - tr).max():.3g} but is not an affine "
        "change of scale or offset (clip?).",
      )
    ]
  return causes


def _step_cause(s: Samples, tol: float) -> Cause:
  diff = s.action_rt - s.action_env
  if _explained(s.action_rt - s.action_prev, diff, tol):
    return Cause(
      "timing",
      ["actions"],
      "timing: runtime.step() keeps the previous step's action instead of this step's policy output.",
    )
  return Cause(
    "unexplained",
    ["actions"],
    f"the runtime's policy input matches training but step() gives actions off by up to "
    f"{np.abs(diff).max():.3g}.",
  )
