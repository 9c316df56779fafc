"""``PolicyNode``: an exported policy as a ROS 2 node, behind the safety supervisor.

In: ``sensor_msgs/JointState`` (/joint_states, matched by name), ``sensor_msgs/Imu`` (/imu:
orientation and angular velocity of the base), ``geometry_msgs/Twist`` (/cmd_vel, clamped
to deploy.yaml's command ranges), ``nav_msgs/Odometry`` (/odom, only for policies that
observe base_lin_vel). Out, once per control period (none in WAIT_FOR_STATE):
``std_msgs/Float64MultiArray`` joint targets in contract order (ros2_control's forward
command controller), ``sensor_msgs/JointState`` /joint_pd_targets (name-keyed:
position = target, velocity = kp, effort = kd) and ``diagnostic_msgs/DiagnosticArray``.
Services: ``~/estop`` (std_srvs/Trigger), ``~/enable`` (std_srvs/SetBool).
``stgym_topics`` swaps the topics for st_gym's Float32MultiArray layout (ros2/inputs.py).
Topic names, QoS, rates and limits are parameters (``NodeParams``, ``SupervisorConfig``).
Motion-conditioned policies replay their goal tables (``controller``); the diagnostics
carry the goal row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import mujoco
import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.clock import Clock, ClockType
from rclpy.context import Context
from rclpy.node import Node
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Float32MultiArray, Float64MultiArray, MultiArrayDimension
from std_srvs.srv import SetBool, Trigger

from legged_robots.deploy.errors import DeployError
from legged_robots.deploy.exported import resolve_mjcf
from legged_robots.deploy.ros2.controller import Controller
from legged_robots.deploy.ros2.inputs import (
  STGYM_ACTION_FIELDS,
  InputError,
  pack_stgym_action,
  parse_stgym_state,
)
from legged_robots.deploy.ros2.ros_io import (
  Reliability,
  TopicParams,
  declare_params,
  qos,
  refuse_unknown_overrides,
  stamp_seconds,
)
from legged_robots.deploy.ros2.supervisor import MotorCommand, SupervisorConfig, SupervisorState
from legged_robots.deploy.ros2.timing import LoopTiming
from legged_robots.deploy.runtime import PolicyRuntime


@dataclass
class NodeParams(TopicParams):
  """Topics, QoS, rates and gains of the policy node (the supervisor's are SupervisorConfig)."""

  diagnostics_topic: str = "/diagnostics"
  state_qos_reliability: Reliability = "best_effort"
  """best_effort subscriptions match both best-effort and reliable publishers."""
  state_qos_depth: int = 1
  command_qos_reliability: Reliability = "reliable"
  command_qos_depth: int = 1
  control_rate_hz: float = 50.0
  """Defaults to 1 / deploy.yaml step_dt: the rate the policy was trained at."""
  diagnostics_rate_hz: float = 1.0
  late_threshold_ms: float = 5.0
  cmd_timeout_s: float = 0.5
  """No velocity command for this long -> zero command (0: keep the last one)."""
  damping_forward_mode: Literal["measured", "none"] = "measured"
  """What the forward command topic gets in DAMPING: the measured pose (a PD drive fed its own
  position damps: tau = -kd qd) or nothing (the driver must detect the silence)."""
  kp: list[float] = field(default_factory=list)
  """Policy-order stiffness; defaults to deploy.yaml's."""
  kd: list[float] = field(default_factory=list)
  extra_joints: list[str] = field(default_factory=list)
  """Joint names the state may carry besides the policy's (ignored); any other is an error."""
  mjcf: str = ""
  """Robot model for the joint limits; empty: the exported robot.xml."""
  accept_start_pose_mismatch: bool = False
  """Run a policy trained to start in its clip's first frame (whole-body tracking) from the
  default pose anyway; without it such a contract is refused (docs/ros2.md)."""


def joint_limits(mjcf: Path, joint_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
  """(lower, upper) of each joint in the MJCF (+-inf for unlimited joints)."""
  model = mujoco.MjModel.from_xml_path(str(mjcf))
  ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n) for n in joint_names]
  missing = [n for n, i in zip(joint_names, ids, strict=True) if i < 0]
  if missing:
    raise DeployError(
      f"joints {missing} of the policy are not in {mjcf}: pass the robot's MJCF (mjcf parameter)"
    )
  limited = model.jnt_limited[ids].astype(bool)
  lower = np.where(limited, model.jnt_range[ids, 0], -np.inf)
  return lower, np.where(limited, model.jnt_range[ids, 1], np.inf)


class PolicyNode(Node):
  def __init__(
    self,
    folder: str | Path,
    overrides: dict[str, Any] | None = None,
    *,
    name: str = "st_gym_policy",
    context: Context | None = None,
    keep_timing_history: bool = False,
  ):
    from rclpy.parameter import Parameter

    folder = Path(folder)
    runtime = PolicyRuntime(folder)
    c = runtime.contract
    params = [Parameter(k, value=v) for k, v in (overrides or {}).items()]
    super().__init__(name, context=context, parameter_overrides=params)
    defaults = NodeParams(control_rate_hz=1.0 / c.step_dt, kp=list(c.stiffness), kd=list(c.damping))
    p = self.params = declare_params(self, NodeParams, defaults)
    self.supervisor_config = declare_params(self, SupervisorConfig, SupervisorConfig())
    refuse_unknown_overrides(self)
    n = len(c.joint_names)
    if len(p.kp) != n or len(p.kd) != n:
      raise DeployError(
        f"parameters kp and kd need {n} values (policy joint order), got {len(p.kp)} and {len(p.kd)}"
      )
    mjcf, _ = resolve_mjcf(folder, c, p.mjcf or None)
    lower, upper = joint_limits(mjcf, c.joint_names)
    self.controller = Controller(
      runtime, self.supervisor_config, lower, upper, p.kp, p.kd, p.extra_joints, p.cmd_timeout_s,
      p.accept_start_pose_mismatch,
    )  # fmt: skip
    self.joint_names = list(c.joint_names)
    self.period = 1.0 / p.control_rate_hz
    if abs(self.period - c.step_dt) > 1e-3 * c.step_dt:
      self.get_logger().warning(
        f"control_rate_hz {p.control_rate_hz} differs from the trained {1 / c.step_dt} Hz"
      )
    self.timing = LoopTiming(self.period, p.late_threshold_ms * 1e-3, keep_all=keep_timing_history)
    self._wire_topics(p)
    self.create_service(Trigger, "~/estop", self._on_estop)
    self.create_service(SetBool, "~/enable", self._on_enable)
    steady = Clock(clock_type=ClockType.STEADY_TIME)
    self._timer = self.create_timer(self.period, self._on_tick, clock=steady)
    self.create_timer(1.0 / p.diagnostics_rate_hz, self.publish_diagnostics, clock=steady)
    self._reported: tuple = ()
    self.estop_latency_s: float | None = None
    """Of the last ~/estop: request received -> damping command published (before the response)."""
    self.get_logger().info(
      f"{c.task} policy from {folder}: {n} joints at {p.control_rate_hz:g} Hz, "
      f"{'st_gym topics' if p.stgym_topics else 'standard topics'}, "
      f"auto_enable={self.supervisor_config.auto_enable}"
    )

  def _wire_topics(self, p: NodeParams) -> None:
    state_qos, cmd_qos = (
      qos(p.state_qos_reliability, p.state_qos_depth),
      qos(p.command_qos_reliability, p.command_qos_depth),
    )
    ctl = self.controller
    if p.stgym_topics:
      self.create_subscription(Float32MultiArray, p.stgym_state_topic, self._on_stgym_state, state_qos)
      self.create_subscription(Float32MultiArray, p.stgym_cmd_topic, self._on_joy_cmd, state_qos)
      self._action_pub = self.create_publisher(Float32MultiArray, p.stgym_action_topic, cmd_qos)
    else:
      self.create_subscription(JointState, p.joint_states_topic, self._on_joint_state, state_qos)
      self.create_subscription(Imu, p.imu_topic, self._on_imu, state_qos)
      self.create_subscription(Twist, p.cmd_vel_topic, self._on_twist, state_qos)
      if ctl.needs_lin_vel:
        self.create_subscription(Odometry, p.odom_topic, self._on_odom, state_qos)
      self._forward_pub = self.create_publisher(Float64MultiArray, p.forward_command_topic, cmd_qos)
      self._pd_pub = self.create_publisher(JointState, p.pd_target_topic, cmd_qos)
    self._diag_pub = self.create_publisher(DiagnosticArray, p.diagnostics_topic, 10)

  # --- inputs -------------------------------------------------------------------------

  def _on_joint_state(self, msg: JointState) -> None:
    self.controller.on_joint_state(
      list(msg.name), msg.position, msg.velocity, stamp_seconds(msg.header.stamp), time.monotonic()
    )

  def _on_imu(self, msg: Imu) -> None:
    o, w = msg.orientation, msg.angular_velocity
    self.controller.on_imu(
      (o.w, o.x, o.y, o.z), (w.x, w.y, w.z), stamp_seconds(msg.header.stamp), time.monotonic()
    )

  def _on_odom(self, msg: Odometry) -> None:
    v = msg.twist.twist.linear
    self.controller.on_odometry((v.x, v.y, v.z), stamp_seconds(msg.header.stamp), time.monotonic())

  def _on_twist(self, msg: Twist) -> None:
    self.controller.on_velocity_command((msg.linear.x, msg.linear.y, msg.angular.z), time.monotonic())

  def _on_stgym_state(self, msg: Float32MultiArray) -> None:
    now, ctl = time.monotonic(), self.controller
    try:
      s = parse_stgym_state(msg.data, len(self.joint_names))
    except InputError as e:
      ctl.input_problem("state", str(e))
      return
    ctl.problems.pop("state", None)
    ctl.on_joint_state(self.joint_names, s.q, s.dq, None, now)
    ctl.on_imu(s.quat_wxyz, s.gyro, None, now)
    if s.lin_vel is not None:
      ctl.on_odometry(s.lin_vel, None, now)

  def _on_joy_cmd(self, msg: Float32MultiArray) -> None:
    data = list(msg.data)
    if len(data) == 4 and data[3] == -1:
      self._send(self.controller.estop(time.monotonic(), "e-stop (joy_cmd mode -1)"))
      return
    self.controller.on_velocity_command(
      data[:3] if len(data) in (3, 4) else [float("nan")] * 3, time.monotonic()
    )

  # --- control ------------------------------------------------------------------------

  def _on_tick(self) -> None:
    now = time.monotonic()
    until = self._timer.time_until_next_call()
    self.timing.start(now, now + (until or 0) * 1e-9 - self.period if until is not None else now)
    before = self.controller.state
    command = self.controller.tick(now)
    latency = None
    if command is not None:
      self._send(command)
      stamp = self.controller.state_stamp
      if stamp is not None and command.state is not SupervisorState.DAMPING:
        latency = self.get_clock().now().nanoseconds * 1e-9 - stamp
    self.timing.end(time.monotonic(), latency)
    if self.controller.state is not before or self._report_key() != self._reported:
      self.publish_diagnostics()

  def _send(self, cmd: MotorCommand) -> None:
    """Publish one command; every array was checked finite by the supervisor."""
    assert np.all(np.isfinite(cmd.position)) and np.all(np.isfinite(cmd.kp)) and np.all(np.isfinite(cmd.kd))
    stamp = self.get_clock().now().to_msg()
    if self.params.stgym_topics:
      msg = Float32MultiArray(data=pack_stgym_action(cmd.position, cmd.kp, cmd.kd).tolist())
      n = len(self.joint_names)
      msg.layout.dim = [
        MultiArrayDimension(
          label="field", size=len(STGYM_ACTION_FIELDS), stride=len(STGYM_ACTION_FIELDS) * n
        ),
        MultiArrayDimension(label="joint", size=n, stride=n),
      ]
      self._action_pub.publish(msg)
      return
    damping = cmd.state is SupervisorState.DAMPING
    if not damping or (self.params.damping_forward_mode == "measured" and cmd.measured_position):
      self._forward_pub.publish(Float64MultiArray(data=cmd.position.tolist()))
    pd = JointState(
      name=self.joint_names, position=cmd.position.tolist(), velocity=cmd.kp.tolist(), effort=cmd.kd.tolist()
    )
    pd.header.stamp = stamp
    self._pd_pub.publish(pd)

  def _on_estop(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
    received = time.monotonic()
    self._send(self.controller.estop(received))
    self.estop_latency_s = time.monotonic() - received  # request -> damping command published
    self.publish_diagnostics()
    response.success, response.message = True, "DAMPING (latched; ~/enable true soft-starts)"
    return response

  def _on_enable(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
    response.success, response.message = self.controller.enable(bool(request.data), time.monotonic())
    self.publish_diagnostics()
    return response

  # --- diagnostics --------------------------------------------------------------------

  def _report_key(self) -> tuple:
    ctl = self.controller
    return (
      ctl.state,
      ctl.supervisor.last_fault,
      ctl.supervisor.waiting_for,
      tuple(sorted(ctl.problems.items())),
    )

  def publish_diagnostics(self) -> None:
    ctl, sup = self.controller, self.controller.supervisor
    self._reported = self._report_key()
    state = ctl.state
    if state is SupervisorState.DAMPING:
      level, message = DiagnosticStatus.ERROR, f"DAMPING: {sup.last_fault}"
    elif state is SupervisorState.WAIT_FOR_STATE or ctl.problems:
      detail = "; ".join(
        [*(f"{k}: {v}" for k, v in ctl.problems.items()), *([sup.waiting_for] if sup.waiting_for else [])]
      )
      level, message = DiagnosticStatus.WARN, f"{state.value}: {detail}" if detail else state.value
    else:
      level, message = DiagnosticStatus.OK, state.value
    values = ctl.report()
    timing = {k: f"{v:.3f}" if isinstance(v, float) else str(v) for k, v in self.timing.summary().items()}
    timing["period_target_ms"] = f"{self.period * 1e3:.3f}"
    late = self.timing.late > 0
    statuses = [
      _status(f"{self.get_name()}: supervisor", level, message, values),
      _status(f"{self.get_name()}: control loop", DiagnosticStatus.WARN if late else DiagnosticStatus.OK,
              f"{self.timing.late} late cycles" if late else "on time", timing),
    ]  # fmt: skip
    msg = DiagnosticArray(status=statuses)
    msg.header.stamp = self.get_clock().now().to_msg()
    self._diag_pub.publish(msg)


def _status(name: str, level: bytes, message: str, values: dict[str, str]) -> DiagnosticStatus:
  return DiagnosticStatus(
    level=level,
    name=name,
    message=message,
    hardware_id="st_gym",
    values=[KeyValue(key=k, value=v) for k, v in values.items()],
  )
