"""ROS 2 deployment: a policy node behind a safety supervisor, and a MuJoCo loopback robot.

- ``supervisor``: WAIT_FOR_STATE -> SOFT_START -> RUNNING -> DAMPING (numpy only);
- ``inputs``, ``controller``, ``timing``: the node's logic without ROS (unit-testable);
- ``node``: ``PolicyNode`` (rclpy); ``loopback``: ``MujocoRobotNode``, the exported
  ``robot.xml`` in native MuJoCo standing in for a robot driver;
- ``session``: node + loopback robot as two processes, scored like sim2mujoco.

Only ``node``, ``loopback``, ``ros_io`` and ``session`` import rclpy and message packages
(the ``legged_robots[ros2]`` extra). Nothing here imports torch, warp or mjlab.
See ``docs/ros2.md``.
"""
