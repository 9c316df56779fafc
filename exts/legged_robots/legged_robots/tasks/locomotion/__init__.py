"""Velocity-tracking locomotion: the base env-cfg factory shared by all robots."""

from .locomotion_env_cfg import LocomotionRobot, make_locomotion_env_cfg

__all__ = ["LocomotionRobot", "make_locomotion_env_cfg"]
