"""``MujocoRobotNode``: the exported ``robot.xml`` in native MuJoCo, standing in for a robot driver.

Physics runs at deploy.yaml's ``physics_dt`` in real time (a steady-clock timer; missed
steps are caught up, up to 20 at once). The node publishes /joint_states, /imu (root-link
orientation and body-frame angular velocity) and /odom (base-frame linear velocity in
``twist``) at ``state_rate_hz``, with optional Gaussian noise and a fixed latency, and
applies PD with the commanded targets and gains: from /joint_pd_targets (position =
target, velocity = kp, effort = kd; the default), from the forward command topic with
deploy.yaml's gains, or from st_gym's /action (``stgym_topics``). Like a real driver it
refuses non-finite commands and damps (kp = 0, kd from deploy.yaml) when commands stop for
``command_timeout_s``. Physics stays frozen (the robot standing in its default pose)
until the first command; then the base hangs fixed, as in a gantry, until the soft start is
over: the commanded gains stop changing, or in forward mode (positions only, constant gains)
the node's /diagnostics report RUNNING. ``recorder`` keeps what scoring needs.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import mujoco
import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.clock import Clock, ClockType
from rclpy.context import Context
from rclpy.node import Node
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Float32MultiArray, Float64MultiArray

from legged_robots.deploy.exported import resolve_mjcf
from legged_robots.deploy.mujoco_sim import build_sim, read_state, reset_to_default
from legged_robots.deploy.perturbations import SensorNoise
from legged_robots.deploy.ros2.inputs import STGYM_ACTION_FIELDS, InputError, JointNameMap, VelocityCommand
from legged_robots.deploy.ros2.recording import Recorder
from legged_robots.deploy.ros2.ros_io import (
  Reliability,
  TopicParams,
  declare_params,
  qos,
  refuse_unknown_overrides,
  stamp_seconds,
)
from legged_robots.deploy.ros2.supervisor import SupervisorState
from legged_robots.deploy.runtime import load_contract

MAX_CATCH_UP = 20


@dataclass
class LoopbackParams(TopicParams):
  """Rates and sensor imperfections of the loopback robot (cmd_vel_topic is only recorded:
  the operator's command, for scoring)."""

  command_source: Literal["pd", "forward"] = "pd"
  """pd: targets and gains from pd_target_topic; forward: targets only, deploy.yaml's gains."""
  state_rate_hz: float = 200.0
  state_qos_reliability: Reliability = "reliable"
  command_qos_reliability: Reliability = "best_effort"
  noise_scale: float = 0.0
  """Sensor noise, x the std of training's uniform noise (as sim2mujoco --noise-scale)."""
  state_latency_ms: float = 0.0
  command_timeout_s: float = 0.1
  seed: int = 0
  video_fps: float = 25.0
  """Rate at which qpos is recorded for a video made after the run (0: none)."""
  gantry_release_s: float = 0.2
  """The base hangs fixed (a gantry) until the soft start has been over this long: the
  commanded gains constant (the soft start ramps them), or in forward mode, whose gains are
  always deploy.yaml's, the node's supervisor status RUNNING on diagnostics_topic; a real
  robot soft-starts in its gantry too. < 0: no gantry."""
  diagnostics_topic: str = "/diagnostics"
  """The node's diagnostics; read only in forward mode on the gantry."""


class MujocoRobotNode(Node):
  def __init__(
    self, folder: str | Path, overrides: dict[str, Any] | None = None, *, mjcf: str | None = None,
    name: str = "st_gym_mujoco_robot", context: Context | None = None,
  ):  # fmt: skip
    from rclpy.parameter import Parameter

    folder = Path(folder)
    c = self.contract = load_contract(folder)
    super().__init__(
      name, context=context, parameter_overrides=[Parameter(k, value=v) for k, v in (overrides or {}).items()]
    )
    p = self.params = declare_params(self, LoopbackParams, LoopbackParams())
    refuse_unknown_overrides(self)
    self.mjcf, _ = resolve_mjcf(folder, c, mjcf)
    self.robot = build_sim(self.mjcf, c)
    self.model, self.data = self.robot.model, mujoco.MjData(self.robot.model)
    self.start_height = reset_to_default(self.robot, self.data, c)
    self.kp0, self.kd0 = np.asarray(c.stiffness), np.asarray(c.damping)
    self.noise = SensorNoise.training_like(p.noise_scale)
    self.rng = np.random.default_rng(p.seed)
    self.joints = JointNameMap(c.joint_names)
    self.velocity = VelocityCommand.of(c)
    self.recorder = Recorder(c, self.model, p.video_fps)
    self.started = False
    self.commands = self.refused = self.overruns = 0
    self.command_latency: list[float] = []
    self._last_command = 0.0
    self._pending: deque[tuple[float, list]] = deque()
    self.steps = 0
    self._t0 = 0.0
    self._publish_every = max(1, round(1.0 / (p.state_rate_hz * c.physics_dt)))
    self._ticks = 0
    self._gains = np.zeros(2 * len(self.kp0))
    self._gains_changed = 0.0
    self._running_since: float | None = None
    """Forward mode: when the node's diagnostics last switched to RUNNING (None: not RUNNING)."""
    self.on_gantry = p.gantry_release_s >= 0
    r = self.robot
    self._gantry_pose = self.data.qpos[r.root_qpos_adr : r.root_qpos_adr + 7].copy()
    self._set_gains(self.kp0, self.kd0)
    self._wire_topics(p)
    self.create_timer(c.physics_dt, self._on_physics, clock=Clock(clock_type=ClockType.STEADY_TIME))
    self.get_logger().info(f"{self.mjcf} at {1 / c.physics_dt:g} Hz physics, state at {p.state_rate_hz:g} Hz")

  def _wire_topics(self, p: LoopbackParams) -> None:
    state_qos, cmd_qos = qos(p.state_qos_reliability, 1), qos(p.command_qos_reliability, 1)
    if p.stgym_topics:
      self._state_pubs = [self.create_publisher(Float32MultiArray, p.stgym_state_topic, state_qos)]
      self.create_subscription(Float32MultiArray, p.stgym_action_topic, self._on_stgym_action, cmd_qos)
      self.create_subscription(
        Float32MultiArray, p.stgym_cmd_topic, lambda m: self._record_cmd(m.data[:3]), 10
      )
      return
    self._state_pubs = [
      self.create_publisher(JointState, p.joint_states_topic, state_qos),
      self.create_publisher(Imu, p.imu_topic, state_qos),
      self.create_publisher(Odometry, p.odom_topic, state_qos),
    ]
    if p.command_source == "pd":
      self.create_subscription(JointState, p.pd_target_topic, self._on_pd, cmd_qos)
    else:
      self.create_subscription(Float64MultiArray, p.forward_command_topic, self._on_forward, cmd_qos)
      if self.on_gantry:
        self.create_subscription(DiagnosticArray, p.diagnostics_topic, self._on_diagnostics, 10)
    self.create_subscription(
      Twist, p.cmd_vel_topic, lambda m: self._record_cmd((m.linear.x, m.linear.y, m.angular.z)), 10
    )

  # --- commands -----------------------------------------------------------------------

  def _record_cmd(self, value) -> None:
    if self.velocity is not None and len(value) >= 3:
      try:
        self.recorder.command = self.velocity.clamp(list(value)[:3])[0]
      except InputError:
        self.recorder.command = np.zeros(3)

  def _set_gains(self, kp: np.ndarray, kd: np.ndarray) -> None:
    """MuJoCo position actuator: force = kp * ctrl - kp * q - kd * qd, within forcerange."""
    self.model.actuator_gainprm[:, 0] = kp
    self.model.actuator_biasprm[:, 1] = -kp
    self.model.actuator_biasprm[:, 2] = -kd

  def _apply(self, q_ref: np.ndarray, kp: np.ndarray, kd: np.ndarray, stamp: float | None) -> None:
    arrays = (q_ref, kp, kd)
    if not all(np.all(np.isfinite(a)) for a in arrays) or np.any(kp < 0) or np.any(kd < 0):
      self.refused += 1
      self._damp()
      return
    self.commands += 1
    if stamp is not None:
      self.command_latency.append(self.get_clock().now().nanoseconds * 1e-9 - stamp)
    self._set_gains(kp, kd)
    self.data.ctrl[:] = q_ref
    self._last_command = time.monotonic()
    gains = np.concatenate([kp, kd])
    if not np.array_equal(gains, self._gains):
      self._gains, self._gains_changed = gains, self._last_command
    if not self.started:
      self.started, self._t0, self.steps = True, self._last_command, 0
      wait = "" if not self.on_gantry else " (on the gantry until the soft start is over)"
      self.get_logger().info(f"first command: physics starts{wait}")

  def _on_pd(self, msg: JointState) -> None:
    try:
      order = self.joints.indices(list(msg.name))
      if not (len(msg.position) == len(msg.velocity) == len(msg.effort) == len(msg.name)):
        raise InputError("position, velocity (kp) and effort (kd) must each have one value per name")
    except InputError as e:
      self.get_logger().error(f"refused {self.params.pd_target_topic}: {e}", throttle_duration_sec=1.0)
      self.refused += 1
      return
    q, kp, kd = (np.asarray(a, dtype=np.float64)[order] for a in (msg.position, msg.velocity, msg.effort))
    self._apply(q, kp, kd, stamp_seconds(msg.header.stamp))

  def _on_forward(self, msg: Float64MultiArray) -> None:
    if len(msg.data) != len(self.kp0):
      self.refused += 1
      return
    self._apply(np.asarray(msg.data, dtype=np.float64), self.kp0, self.kd0, None)

  def _on_diagnostics(self, msg: DiagnosticArray) -> None:
    """Forward mode's end-of-soft-start signal: its messages carry positions only (the
    ramp's targets can be constant: it starts from the default pose the robot stands in)."""
    for status in msg.status:
      if status.name.endswith(": supervisor"):
        running = any(kv.key == "state" and kv.value == SupervisorState.RUNNING for kv in status.values)
        if not running:
          self._running_since = None
        elif self._running_since is None:
          self._running_since = time.monotonic()

  def _on_stgym_action(self, msg: Float32MultiArray) -> None:
    n = len(self.kp0)
    data = np.asarray(msg.data, dtype=np.float64)
    if data.size != len(STGYM_ACTION_FIELDS) * n:
      self.refused += 1
      return
    rows = data.reshape(len(STGYM_ACTION_FIELDS), n)
    self._apply(rows[0], rows[3], rows[4], None)

  def _hold_base(self) -> None:
    r = self.robot
    self.data.qpos[r.root_qpos_adr : r.root_qpos_adr + 7] = self._gantry_pose
    self.data.qvel[r.root_dof_adr : r.root_dof_adr + 6] = 0.0

  def _soft_start_over(self, now: float) -> bool:
    """Over for gantry_release_s: since the last gains change, or in forward mode since the
    node reported RUNNING (its gains never change)."""
    if self.params.command_source == "forward" and not self.params.stgym_topics:
      return self._running_since is not None and now - self._running_since > self.params.gantry_release_s
    return now - self._gains_changed > self.params.gantry_release_s

  def _damp(self) -> None:
    self._set_gains(np.zeros_like(self.kp0), self.kd0)

  # --- physics and state --------------------------------------------------------------

  def _on_physics(self) -> None:
    now = time.monotonic()
    self._ticks += 1
    if self.started:
      if now - self._last_command > self.params.command_timeout_s:
        self._damp()
      due = int((now - self._t0) / self.contract.physics_dt) - self.steps
      if due > MAX_CATCH_UP:
        self.overruns += 1
        self._t0 += (due - MAX_CATCH_UP) * self.contract.physics_dt
        due = MAX_CATCH_UP
      if self.on_gantry and self._soft_start_over(now):
        self.on_gantry = False
        self.get_logger().info("soft start over: released from the gantry")
      for _ in range(due):
        mujoco.mj_step(self.model, self.data)
        if self.on_gantry:
          self._hold_base()
        self.steps += 1
        self.recorder.physics_step(self.robot, self.data, self.steps, now)
    if self._ticks % self._publish_every == 0:
      self._pending.append((now + self.params.state_latency_ms * 1e-3, self._state_messages()))
    while self._pending and self._pending[0][0] <= now:
      for pub, msg in zip(self._state_pubs, self._pending.popleft()[1], strict=True):
        pub.publish(msg)

  def _state_messages(self) -> list:
    s = read_state(self.robot, self.data)
    n, rng = self.noise, self.rng
    q = s.joint_pos + rng.normal(0, n.joint_pos, s.joint_pos.shape)
    dq = s.joint_vel + rng.normal(0, n.joint_vel, s.joint_vel.shape)
    gyro = s.base_ang_vel + rng.normal(0, n.base_ang_vel, 3)
    quat = s.base_quat
    if n.base_orientation > 0:
      tilt, noisy = np.zeros(4), np.zeros(4)
      rotvec = rng.normal(0, n.base_orientation, 3)
      angle = float(np.linalg.norm(rotvec))
      mujoco.mju_axisAngle2Quat(tilt, rotvec / angle if angle > 0 else np.array([1.0, 0, 0]), angle)
      mujoco.mju_mulQuat(noisy, quat, tilt)
      quat = noisy
    stamp = self.get_clock().now().to_msg()
    if self.params.stgym_topics:
      return [
        Float32MultiArray(
          data=np.concatenate([quat, gyro, s.base_lin_vel, q, dq]).astype(np.float32).tolist()
        )
      ]
    js = JointState(name=self.contract.joint_names, position=q.tolist(), velocity=dq.tolist())
    imu = Imu()
    imu.orientation.w, imu.orientation.x, imu.orientation.y, imu.orientation.z = (float(v) for v in quat)
    imu.angular_velocity.x, imu.angular_velocity.y, imu.angular_velocity.z = (float(v) for v in gyro)
    imu.linear_acceleration_covariance[0] = -1.0  # not provided
    odom = Odometry(child_frame_id="base")
    odom.twist.twist.linear.x, odom.twist.twist.linear.y, odom.twist.twist.linear.z = (
      float(v) for v in s.base_lin_vel
    )
    for msg in (js, imu, odom):
      msg.header.stamp = stamp
    odom.header.frame_id = "world"
    return [js, imu, odom]
