"""Sim-to-sim: the parity check between the training env and the deploy runtime, and
checkpoint export for sweeps.

May import ``legged_robots.rl`` and what sits below it (tasks, deploy, mjlab); never
``legged_robots.evaluation``. Import the submodules you need; this module imports nothing.
"""
