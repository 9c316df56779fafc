"""Deterministic kinematic G1 motions built by IK (synthetic style data, not mocap)."""

from refmotion_manager.synth.generate import synthesize
from refmotion_manager.synth.motions import CATALOGUE

__all__ = ["CATALOGUE", "synthesize"]
