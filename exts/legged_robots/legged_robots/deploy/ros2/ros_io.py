"""rclpy plumbing shared by the policy node and the loopback robot: parameters, QoS, executor.

``declare_params`` turns a dataclass of defaults into ROS parameters (``--ros-args -p
name:=value``) and reads them back checked against the field types: an int is accepted
where a float is expected, anything else of the wrong type is a DeployError naming it.
"""

from __future__ import annotations

import array
import dataclasses
import difflib
import gc
import threading
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar, get_args, get_origin

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.context import Context
from rclpy.executors import Executor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

from legged_robots.deploy.errors import DeployError

T = TypeVar("T")
RELIABILITY = {"best_effort": ReliabilityPolicy.BEST_EFFORT, "reliable": ReliabilityPolicy.RELIABLE}
Reliability = Literal["best_effort", "reliable"]


@dataclasses.dataclass
class TopicParams:
  """Topic names shared by the policy node and the loopback robot (both extend this)."""

  stgym_topics: bool = False
  """Use st_gym's /state, /action, /joy_cmd Float32MultiArray layout instead of the standard topics."""
  joint_states_topic: str = "/joint_states"
  imu_topic: str = "/imu"
  odom_topic: str = "/odom"
  """Read by the node only when the policy observes base_lin_vel (twist.twist.linear, base frame)."""
  cmd_vel_topic: str = "/cmd_vel"
  forward_command_topic: str = "/forward_position_controller/commands"
  pd_target_topic: str = "/joint_pd_targets"
  stgym_state_topic: str = "/state"
  stgym_action_topic: str = "/action"
  stgym_cmd_topic: str = "/joy_cmd"


def qos(reliability: str, depth: int) -> QoSProfile:
  """Keep-last QoS; 'best_effort' subscribers also match 'reliable' publishers."""
  if reliability not in RELIABILITY or depth < 1:
    raise DeployError(
      f"QoS reliability must be one of {sorted(RELIABILITY)} and depth >= 1, got {reliability!r}, {depth}"
    )
  return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=RELIABILITY[reliability])


def make_executor(context: Context | None = None) -> Executor:
  """rclpy's C++ EventsExecutor where it exists (Kilted+: ~half the CPU per message of the
  SingleThreadedExecutor, which here also fell behind 500 Hz joint states), else the latter."""
  try:
    from rclpy.experimental import EventsExecutor
  except ImportError:
    return SingleThreadedExecutor(context=context)
  return EventsExecutor(context=context)


def spin_until(context: Context, nodes: Sequence[Node], stop: Callable[[], bool]) -> None:
  """Spin ``nodes`` on this thread until ``stop()`` or the context is shut down.

  spin_once with a timeout rather than spin(): rclpy's EventsExecutor deadlocks when its
  context is shut down from another thread (or a signal handler) while spin() runs, so the
  owner sets a flag, this loop returns, and the owner shuts the context down afterwards.

  Everything allocated so far (modules, models, the policy) is moved out of the garbage
  collector's reach first: a full collection over those ~60k objects takes ~15 ms, which
  showed up as control ticks 10-16 ms late; after gc.freeze() it takes microseconds.
  """
  gc.collect()
  gc.freeze()
  executor = make_executor(context)
  for node in nodes:
    executor.add_node(node)
  try:
    while context.ok() and not stop():
      executor.spin_once(timeout_sec=0.1)
  finally:
    for node in nodes:
      executor.remove_node(node)


class Spinner:
  """``spin_until`` on a background thread; ``stop()`` returns once it has stopped."""

  def __init__(self, context: Context, nodes: Sequence[Node]):
    self._stop = threading.Event()
    self._thread = threading.Thread(target=spin_until, args=(context, nodes, self._stop.is_set), daemon=True)
    self._thread.start()

  def stop(self, timeout_s: float = 5.0) -> None:
    self._stop.set()
    self._thread.join(timeout_s)


def _convert(name: str, value: Any, hint: Any) -> Any:
  origin = get_origin(hint)
  if origin in (typing.Union, types.UnionType):
    hint = next(a for a in get_args(hint) if a is not type(None))
    if value is None:
      return None
    origin = get_origin(hint)
  if origin is typing.Literal:
    if value not in get_args(hint):
      raise DeployError(f"parameter {name}={value!r}: must be one of {list(get_args(hint))}")
    return value
  if origin is list:
    (item,) = get_args(hint)
    if not isinstance(value, (list, tuple, array.array)):
      raise DeployError(f"parameter {name}={value!r}: expected a list of {item.__name__}")
    return [_convert(f"{name}[{i}]", v, item) for i, v in enumerate(value)]
  if hint is float and isinstance(value, int) and not isinstance(value, bool):
    return float(value)
  if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
    raise DeployError(f"parameter {name}={value!r}: expected {hint.__name__}")
  return value


def declare_params(node: Node, cls: type[T], defaults: T) -> T:
  """Declare every field of dataclass ``cls`` as a parameter; return the values in effect."""
  hints = typing.get_type_hints(cls)
  values = {}
  for f in dataclasses.fields(cls):  # pyright: ignore[reportArgumentType]
    default = getattr(defaults, f.name)
    if isinstance(default, list):
      default = list(default) or None  # an empty list would declare a BYTE_ARRAY
    param = node.declare_parameter(f.name, default, ParameterDescriptor(dynamic_typing=True))
    value = param.value
    values[f.name] = _convert(f.name, getattr(defaults, f.name) if value is None else value, hints[f.name])
  return cls(**values)


def refuse_unknown_overrides(node: Node) -> None:
  """rclpy keeps an override that no parameter declares and says nothing (a misspelt
  ``-p contrl_rate_hz:=50`` would run at the default rate): destroy the node and refuse it,
  naming the closest."""
  known = set(node.list_parameters([], 0).names)
  overrides = node._parameter_overrides  # rclpy has no public accessor
  unknown = sorted(n for n in overrides if n not in known and not n.startswith("qos_overrides."))
  if unknown:
    hints = []
    for name in unknown:
      close = difflib.get_close_matches(name, sorted(known), n=1)
      hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
    message = (
      f"node {node.get_name()} has no parameter {', '.join(hints)}: fix the -p name "
      "(docs/ros2.md lists the parameters)."
    )
    node.destroy_node()  # its constructor raises next: nothing else would take it off the graph
    raise DeployError(message)


def stamp_seconds(stamp: Any) -> float | None:
  """builtin_interfaces/Time -> seconds, None when unset (0)."""
  s = stamp.sec + stamp.nanosec * 1e-9
  return s if s > 0 else None
