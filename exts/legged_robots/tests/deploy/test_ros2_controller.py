"""The ROS 2 node's logic without DDS: joints by name, command clamping, st_gym layout, timing.

Uses the shipped Flat-G1 policy (29 joints, command ranges vx [-0.5, 1], vy [-0.3, 0.3],
wz [-1, 1]).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from legged_robots.deploy import CommandSpec, DeployError, ObservationTerm, PolicyRuntime
from legged_robots.deploy.motion_goals import StartState, goal_at
from legged_robots.deploy.ros2.controller import Controller
from legged_robots.deploy.ros2.inputs import (
  InputError,
  JointNameMap,
  VelocityCommand,
  pack_stgym_action,
  parse_stgym_state,
)
from legged_robots.deploy.ros2.supervisor import SupervisorConfig, SupervisorState
from legged_robots.deploy.ros2.timing import LoopTiming

from .helpers import G1_POLICY, OBS, export_folder, small_contract

S = SupervisorState


@pytest.fixture(scope="module")
def runtime() -> PolicyRuntime:
  return PolicyRuntime(G1_POLICY)


def controller(runtime: PolicyRuntime, **cfg) -> Controller:
  n = len(runtime.contract.joint_names)
  config = SupervisorConfig(**{"auto_enable": True, "soft_start_s": 0.1, **cfg})
  return Controller(runtime, config, np.full(n, -3.0), np.full(n, 3.0))


def feed(ctl: Controller, now: float, q: np.ndarray | None = None, names: list[str] | None = None) -> None:
  c = ctl.runtime.contract
  names = list(c.joint_names) if names is None else names
  q = np.asarray(c.default_joint_pos) if q is None else q
  ctl.on_joint_state(names, list(q[: len(names)]), [0.0] * len(names), None, now)
  ctl.on_imu((1.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0), None, now)


def test_joint_map_reorders_by_name_and_names_what_is_wrong():
  m = JointNameMap(["a", "b", "c"], extra_joints=["hand"])
  q, dq = m.reorder(["c", "hand", "a", "b"], [3.0, 9.0, 1.0, 2.0], [30.0, 90.0, 10.0, 20.0])
  np.testing.assert_array_equal(q, [1.0, 2.0, 3.0])
  np.testing.assert_array_equal(dq, [10.0, 20.0, 30.0])
  with pytest.raises(InputError, match=r"missing joints \['b'\]; unknown joints \['zz'\]"):
    m.indices(["a", "c", "zz"])
  with pytest.raises(InputError, match=r"duplicate joints \['a'\]"):
    m.indices(["a", "b", "c", "a"])
  with pytest.raises(InputError, match="3 names but 3 positions and 0 velocities"):
    m.reorder(["a", "b", "c"], [1.0, 2.0, 3.0], [])


def test_velocity_command_is_clamped_to_the_contract_ranges(runtime):
  vel = VelocityCommand.of(runtime.contract)
  assert vel is not None and vel.name == "base_velocity"
  value, clamped = vel.clamp([5.0, -3.0, 9.0])
  np.testing.assert_array_equal(value, [1.0, -0.3, 1.0])
  assert clamped
  value, clamped = vel.clamp([0.5, 0.1, -0.2])
  np.testing.assert_array_equal(value, [0.5, 0.1, -0.2])
  assert not clamped
  with pytest.raises(InputError, match="not 3 finite numbers"):
    vel.clamp([float("nan"), 0.0, 0.0])


def test_stgym_layout():
  n = 2
  s = parse_stgym_state([1, 0, 0, 0, 0.1, 0.2, 0.3, 0.5, 0.6, 7, 8], n)
  np.testing.assert_array_equal(s.quat_wxyz, [1, 0, 0, 0])
  np.testing.assert_array_equal(s.q, [0.5, 0.6])
  np.testing.assert_array_equal(s.dq, [7, 8])
  assert s.lin_vel is None
  s = parse_stgym_state([1, 0, 0, 0, 0.1, 0.2, 0.3, 4, 5, 6, 0.5, 0.6, 7, 8], n)
  np.testing.assert_array_equal(s.lin_vel, [4, 5, 6])
  with pytest.raises(InputError, match="11 or 14"):
    parse_stgym_state([0.0] * 12, n)
  action = pack_stgym_action(np.array([0.1, 0.2]), np.array([40.0, 20.0]), np.array([2.0, 1.0]))
  np.testing.assert_allclose(action.reshape(5, n), [[0.1, 0.2], [0, 0], [0, 0], [40, 20], [2, 1]], rtol=1e-6)


def test_missing_or_unknown_joint_means_no_command_and_a_problem_naming_it(runtime):
  ctl = controller(runtime)
  names = [n for n in runtime.contract.joint_names if n != "left_knee_joint"] + ["camera_tilt_joint"]
  for k in range(5):
    feed(ctl, 0.02 * k, names=names)
    assert ctl.tick(0.02 * k) is None
  assert ctl.state is S.WAIT_FOR_STATE
  problem = ctl.problems["joint_states"]
  assert "missing joints ['left_knee_joint']" in problem and "unknown joints ['camera_tilt_joint']" in problem
  assert "left_knee_joint" in (ctl.supervisor.waiting_for or "")


def test_nan_state_while_running_damps_and_every_command_is_finite(runtime):
  ctl = controller(runtime)
  commands = []
  for k in range(20):
    feed(ctl, 0.02 * k)
    commands.append(ctl.tick(0.02 * k))
  assert ctl.state is S.RUNNING
  q = np.asarray(runtime.contract.default_joint_pos, dtype=float)
  q[3] = np.nan
  feed(ctl, 0.4, q=q)
  commands.append(ctl.tick(0.4))
  assert ctl.state is S.DAMPING and "NaN/inf in joint_pos ['left_knee_joint']" in (
    ctl.supervisor.last_fault or ""
  )
  for cmd in commands:
    assert cmd is not None and all(np.all(np.isfinite(a)) for a in (cmd.position, cmd.kp, cmd.kd))
  assert not commands[-1].measured_position and np.all(commands[-1].kp == 0)


def test_velocity_command_reaches_the_policy_clamped_and_times_out(runtime):
  ctl = controller(runtime)
  ctl.cmd_timeout_s = 0.5
  ctl.on_velocity_command([5.0, -3.0, 9.0], now=1.0)
  for now in (1.0, 1.2):  # the policy step (RUNNING, after the 0.1 s soft start) sets it
    feed(ctl, now)
    ctl.tick(now)
  np.testing.assert_array_equal(runtime.commands["base_velocity"], [1.0, -0.3, 1.0])
  assert ctl.command_clamped
  feed(ctl, 1.6)
  ctl.tick(1.6)  # no command for 0.6 s > cmd_timeout_s: zero
  np.testing.assert_array_equal(runtime.commands["base_velocity"], [0.0, 0.0, 0.0])
  ctl.on_velocity_command([np.inf, 0.0, 0.0], now=1.7)
  assert "not 3 finite numbers" in ctl.problems["cmd_vel"]
  np.testing.assert_array_equal(ctl.command, [0.0, 0.0, 0.0])


def test_loop_timing_by_hand():
  t = LoopTiming(dt=0.02, late_threshold_s=0.005)
  # (start, scheduled): on time, on time, 7 ms late, on time, then 0.08 and 0.10 skipped, 1 ms late.
  for start, scheduled in [(0.0, 0.0), (0.02, 0.02), (0.047, 0.04), (0.06, 0.06), (0.121, 0.12)]:
    t.start(start, scheduled)
    t.end(start + 0.001, latency=0.003)
  s = t.summary()
  assert s["ticks"] == 5 and s["missed_cycles"] == 2 and s["late_cycles"] == 3  # one > 5 ms late + two missed
  assert s["period_max_ms"] == pytest.approx(61.0)
  assert s["lateness_max_ms"] == pytest.approx(7.0)
  assert s["jitter_max_ms"] == pytest.approx(41.0)
  assert s["compute_p50_ms"] == pytest.approx(1.0) and s["latency_max_ms"] == pytest.approx(3.0)


# --- motion goals -------------------------------------------------------------------------

GOALS = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]])
CLIP_VEL = np.array([[0.0, 0.0, 0.0], [0.1, 0.0, 0.2], [0.2, 0.0, 0.4]])


def goal_export(folder: Path, loop: bool, start: bool = False) -> Path:
  """small_contract + a 3-row 'motion' goal table (observed last) whose base velocity the
  'twist' command adds; ``start``: a full-state (tracking) start frame too."""
  contract = small_contract()
  contract.commands[0].ranges = {"lin_vel_x": [-1.0, 1.0], "lin_vel_y": [-1.0, 1.0], "ang_vel_z": [-1.0, 1.0]}
  contract.commands[0].adds = "motion"
  contract.commands.append(CommandSpec("motion", "m:MotionCommandCfg", goals="motion_goals.npz"))
  term = ObservationTerm("motion_goal", 4, f"{OBS}:generated_commands", {"command_name": "motion"})
  contract.observations.append(term)
  contract.policy.obs_dim += 4
  export_folder(folder, contract)
  table = {"goals": GOALS, "base_velocity": CLIP_VEL, "loop": np.array(loop)}
  if start:
    table |= StartState(
      np.array([0.0, 0.0, 0.8]), np.array([1.0, 0.0, 0.0, 0.0]), np.zeros(3), np.zeros(3),
      np.array([0.1, 0.4]), np.zeros(2),
    ).to_npz()  # fmt: skip
  np.savez(folder / "motion_goals.npz", **table)  # pyright: ignore[reportArgumentType]
  return folder


def running_observations(ctl: Controller, ticks: int, t0: float = 0.0) -> tuple[list[np.ndarray], float]:
  """From t0: two SOFT_START ticks (soft_start_s 0.1), then ``ticks`` RUNNING ticks at 50 Hz
  with the operator's command (0.5, 0, 0): the policy input of each tick, and the time after."""
  seen: list[np.ndarray] = []
  observe = ctl.runtime.observe

  def record(state):
    seen.append(observe(state))
    return seen[-1]

  ctl.runtime.observe = record
  for now in (t0, t0 + 0.05):  # SOFT_START: no policy step, no goal row
    feed(ctl, now)
    ctl.tick(now)
  assert ctl.state is S.SOFT_START and not seen and ctl.goal_row is None
  now = t0 + 0.12
  for _ in range(ticks):
    feed(ctl, now)
    ctl.on_velocity_command([0.5, 0.0, 0.0], now)
    ctl.tick(now)
    now += 0.02
  ctl.runtime.observe = observe
  assert ctl.state is S.RUNNING and len(seen) == ticks
  return seen, now


@pytest.mark.parametrize(
  ("loop", "rows"), [(True, [1, 2, 0, 1, 2]), (False, [1, 2, 2, 2, 2])], ids=["loops", "holds_last_row"]
)
def test_running_tick_k_observes_goal_row_k_plus_1_and_the_clip_velocity_added(tmp_path, loop, rows):
  runtime = PolicyRuntime(goal_export(tmp_path, loop))
  ctl = controller(runtime)
  seen, now = running_observations(ctl, 5)
  for k, (obs, row) in enumerate(zip(seen, rows, strict=True)):
    # obs: ang vel 3, gravity 3, joint pos 2, joint vel 2, actions 2, velocity 3 (12:15), goal 4.
    np.testing.assert_allclose(obs[15:], GOALS[row], err_msg=f"tick {k}")
    np.testing.assert_allclose(obs[15:], goal_at(GOALS, k, loop), err_msg=f"tick {k}")  # as sim2mujoco
    np.testing.assert_allclose(obs[12:15], [0.5, 0.0, 0.0] + CLIP_VEL[row], atol=1e-6, err_msg=f"tick {k}")
  assert ctl.goal_row == rows[-1] and ctl.policy_steps == 5
  assert ctl.report()["goal_row"] == str(rows[-1]) and ctl.report()["goal_rows"] == "3"  # diagnostics
  ctl.estop(now)  # DAMPING runs no policy; ~/enable soft-starts, and RUNNING replays from row 1 again
  feed(ctl, now)
  assert ctl.enable(True, now) == (True, "SOFT_START")
  seen, _ = running_observations(ctl, 2, t0=now)
  np.testing.assert_allclose([obs[15:] for obs in seen], GOALS[[1, 2]])
  assert ctl.goal_row == 2 and ctl.policy_steps == 2


def test_a_full_state_start_is_refused_unless_the_mismatch_is_accepted(tmp_path):
  runtime = PolicyRuntime(goal_export(tmp_path, loop=False, start=True))
  n = len(runtime.contract.joint_names)
  # Frame 0's joints (0.1, 0.4) against the default pose (0.1, -0.2): knee 0.60 rad away.
  with pytest.raises(
    DeployError, match=r"first frame.*0\.60 rad from the default pose at knee.*--accept-start-pose-mismatch"
  ):
    Controller(runtime, SupervisorConfig(), np.full(n, -3.0), np.full(n, 3.0))
  ctl = Controller(
    runtime, SupervisorConfig(auto_enable=True, soft_start_s=0.1), np.full(n, -3.0), np.full(n, 3.0),
    accept_start_pose_mismatch=True,
  )  # fmt: skip
  seen, _ = running_observations(ctl, 1)
  np.testing.assert_allclose(seen[0][15:], GOALS[1])
