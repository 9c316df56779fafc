"""The safety supervisor on its own: soft-start profile by hand, faults, limits, enable/e-stop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from legged_robots.deploy import NonFiniteActionError
from legged_robots.deploy.ros2.supervisor import (
  Measurement,
  Supervisor,
  SupervisorConfig,
  SupervisorState,
  soft_start_ramp,
)

S = SupervisorState
DEFAULT = np.array([0.1, -0.2])
KP, KD = np.array([40.0, 20.0]), np.array([2.0, 1.0])
LOWER, UPPER = np.array([-1.0, -1.0]), np.array([1.0, 1.0])


class FixedPolicy:
  def __init__(self, target=(0.0, 0.0)):
    self.target = np.asarray(target, dtype=float)
    self.resets = 0

  def reset(self) -> None:
    self.resets += 1

  def __call__(self, meas: Measurement) -> np.ndarray:
    if np.isnan(self.target).any():
      raise NonFiniteActionError("policy returned NaN/inf")
    return self.target


def meas(q=(0.5, 0.3), quat=(1.0, 0.0, 0.0, 0.0), age=0.0, dq=(0.0, 0.0)) -> Measurement:
  z = np.zeros(3)
  return Measurement(
    np.array(q, float), np.array(dq, float), np.array(quat, float), z, None, {"joint_states": age}
  )


def supervisor(**cfg) -> Supervisor:
  config = SupervisorConfig(**{"auto_enable": True, "soft_start_s": 1.0, **cfg})
  return Supervisor(config, ["hip", "knee"], DEFAULT, KP, KD, LOWER, UPPER, dt=0.02)


def running(sup: Supervisor, policy: FixedPolicy) -> None:
  sup.update(0.0, meas(), policy)
  sup.update(1.0, meas(), policy)
  assert sup.state is S.RUNNING


def test_soft_start_profile_matches_hand_computed_values():
  sup, policy = supervisor(soft_start_gain_fraction=0.2), FixedPolicy((0.0, 0.0))
  # r(s) = (1 - cos(pi s)) / 2: r(0.25) = 0.1464466, r(0.5) = 0.5, r(0.75) = 0.8535534.
  assert soft_start_ramp(0.25) == pytest.approx(0.1464466, abs=1e-7)
  expected = {
    # t: (q_ref = q0 + (default - q0) r, kp = kp (0.2 + 0.8 r)); q0 = (0.5, 0.3)
    0.0: ([0.5, 0.3], [8.0, 4.0]),
    0.25: ([0.4414214, 0.2267767], [12.6862915, 6.3431458]),
    0.5: ([0.3, 0.05], [24.0, 12.0]),
    0.75: ([0.1585786, -0.1267767], [35.3137085, 17.6568542]),
  }
  for t, (q_ref, kp) in expected.items():
    cmd = sup.update(t, meas(), policy)
    assert cmd is not None and cmd.state is S.SOFT_START
    np.testing.assert_allclose(cmd.position, q_ref, atol=1e-6)
    np.testing.assert_allclose(cmd.kp, kp, atol=1e-6)
    np.testing.assert_allclose(
      cmd.kd, np.asarray(kp) / 20.0, atol=1e-7
    )  # kd ramps like kp (kd = kp / 20 here)
  cmd = sup.update(1.0, meas(), policy)  # ramp done: the policy takes over in the same step, runtime reset
  assert cmd is not None and cmd.state is S.RUNNING and policy.resets == 1
  np.testing.assert_allclose(cmd.position, [0.0, 0.0])
  np.testing.assert_allclose(cmd.kp, KP)


def test_wait_for_state_sends_nothing_until_armed_and_complete():
  sup, policy = supervisor(auto_enable=False), FixedPolicy()
  assert sup.update(0.0, None, policy) is None and sup.waiting_for == "no complete state yet"
  assert sup.update(0.1, meas(), policy) is None and sup.waiting_for == "~/enable"
  ok, message = sup.enable(True, 0.2, None, "waiting for imu")
  assert ok and "armed" in message and sup.state is S.WAIT_FOR_STATE
  assert sup.update(0.3, None, policy, "joint_states: missing joints ['knee']") is None
  assert "knee" in (sup.waiting_for or "")
  cmd = sup.update(0.4, meas(), policy)
  assert cmd is not None and cmd.state is S.SOFT_START


def test_targets_are_clamped_to_joint_limits_and_rate_limited():
  sup, policy = supervisor(max_target_rate=5.0), FixedPolicy((3.0, -3.0))  # 5 rad/s * 0.02 s = 0.1 per step
  sup.update(0.0, meas(q=DEFAULT), policy)  # soft start from the default pose: its targets are the default
  positions = []
  for k in range(12):
    cmd = sup.update(1.0 + 0.02 * k, meas(q=DEFAULT), policy)
    assert cmd is not None and cmd.state is S.RUNNING
    positions.append(cmd.position)
  # The policy asks for (3, -3): clamped to the limits (1, -1), approached 0.1 rad per step from (0.1, -0.2).
  np.testing.assert_allclose(positions[0], [0.2, -0.3], atol=1e-9)
  np.testing.assert_allclose(positions[4], [0.6, -0.7], atol=1e-9)
  np.testing.assert_allclose(positions[8], [1.0, -1.0], atol=1e-9)
  np.testing.assert_allclose(positions[-1], [1.0, -1.0], atol=1e-9)
  assert np.all(np.abs(np.diff(positions, axis=0)) <= 0.1 + 1e-12)


def _tilted(angle: float) -> tuple[float, float, float, float]:
  return (math.cos(angle / 2), math.sin(angle / 2), 0.0, 0.0)


@pytest.mark.parametrize(
  ("bad", "message"),
  [
    (meas(q=(float("nan"), 0.3)), "NaN/inf in joint_pos ['hip']"),
    (meas(dq=(0.0, float("inf"))), "NaN/inf in joint_vel ['knee']"),
    (meas(age=0.25), "state timeout: joint_states 250 ms"),
    (meas(quat=_tilted(0.9)), "base tilt 0.90 rad > tilt_limit_rad 0.8"),
    (meas(quat=(0.0, 0.0, 0.0, 0.0)), "not a unit quaternion"),
    (meas(q=(0.5, 1.2)), "joint knee at 1.200 rad is beyond its limits"),
  ],
)
def test_each_fault_damps_with_a_message_naming_it(bad, message):
  sup, policy = supervisor(), FixedPolicy()
  running(sup, policy)
  assert sup.update(1.02, meas(q=(0.5, 1.05)), policy).state is S.RUNNING  # within the 0.1 rad margin
  cmd = sup.update(1.04, bad, policy)
  assert cmd is not None and cmd.state is S.DAMPING and message in (sup.last_fault or "")
  np.testing.assert_array_equal(cmd.kp, [0.0, 0.0])
  np.testing.assert_allclose(cmd.kd, KD)
  assert np.all(np.isfinite(cmd.position))


def test_nan_policy_output_and_input_problems_damp():
  sup, policy = supervisor(), FixedPolicy()
  running(sup, policy)
  policy.target = np.array([np.nan, 0.0])
  cmd = sup.update(1.02, meas(), policy)
  assert cmd is not None and cmd.state is S.DAMPING and "policy" in (sup.last_fault or "")
  sup2 = supervisor()
  running(sup2, FixedPolicy())
  cmd = sup2.update(1.02, meas(), FixedPolicy(), "joint_states: missing joints ['knee']")
  assert cmd is not None and cmd.state is S.DAMPING and "knee" in (sup2.last_fault or "")


def test_damping_holds_the_last_target_when_the_measurement_is_not_finite():
  sup, policy = supervisor(damping_kd_scale=0.5), FixedPolicy((0.3, 0.4))
  running(sup, policy)
  cmd = sup.update(1.02, meas(q=(np.nan, 0.0)), policy)
  assert cmd is not None and cmd.state is S.DAMPING and not cmd.measured_position
  np.testing.assert_allclose(cmd.position, [0.3, 0.4])
  np.testing.assert_allclose(cmd.kd, KD * 0.5)
  cmd = sup.update(1.04, meas(q=(0.2, 0.1)), policy)
  assert cmd is not None and cmd.measured_position
  np.testing.assert_allclose(cmd.position, [0.2, 0.1])


def test_estop_latches_and_enable_leaves_damping_only_through_soft_start():
  sup, policy = supervisor(), FixedPolicy()
  running(sup, policy)
  sup.estop(1.02, "e-stop")
  assert sup.state is S.DAMPING and sup.last_fault == "e-stop"
  for k in range(5):  # a good state does not end DAMPING by itself
    assert sup.update(1.04 + 0.02 * k, meas(), policy).state is S.DAMPING
  ok, message = sup.enable(True, 1.2, meas(age=1.0), None)
  assert not ok and "state timeout" in message and sup.state is S.DAMPING
  ok, _ = sup.enable(True, 1.3, meas(q=(0.4, 0.2)), None)
  assert ok and sup.state is S.SOFT_START
  cmd = sup.update(1.3, meas(q=(0.4, 0.2)), policy)  # the ramp starts from the measured pose
  assert cmd is not None
  np.testing.assert_allclose(cmd.position, [0.4, 0.2])
  assert sup.update(2.3, meas(), policy).state is S.RUNNING
  ok, _ = sup.enable(False, 2.4, meas(), None)
  assert ok and sup.state is S.DAMPING and sup.last_fault == "disabled by ~/enable"
  assert [t.target for t in sup.transitions] == [
    S.SOFT_START,
    S.RUNNING,
    S.DAMPING,
    S.SOFT_START,
    S.RUNNING,
    S.DAMPING,
  ]
