"""Evaluation of trained policies: play, episode metrics, velocity plots, time-to-walk.

May import ``legged_robots.rl`` and what sits below it (tasks, deploy, mjlab); never
``legged_robots.sim2sim``. Import the submodules you need; this module imports nothing.
"""
