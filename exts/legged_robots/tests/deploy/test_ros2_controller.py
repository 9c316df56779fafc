"""The ROS 2 node's logic without DDS: joints by name, command clamping, st_gym layout, timing.

Uses the shipped Flat-G1 policy (29 joints, command ranges vx [-0.5, 1], vy [-0.3, 0.3],
wz [-1, 1]).
"""

from __future__ import annotations

import numpy as np
import pytest

from legged_robots.deploy import PolicyRuntime
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

from .helpers import G1_POLICY

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
  feed(ctl, 1.0)
  ctl.tick(1.0)
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
