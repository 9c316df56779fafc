"""st_gym's G1 velocity tasks as an Isaac Lab 3 extension (kitless, Newton / MuJoCo Warp).

Python >= 3.12 with Isaac Lab 3.0.0 (docs/isaaclab.md). Importing this package pulls in
nothing; ``legged_robots_isaaclab.tasks`` registers the gym tasks (Isaac Lab's CLI imports
it through the ``isaaclab.tasks`` entry point) and ``legged_robots_isaaclab.export`` writes
st_gym's deployment contract from an Isaac Lab rsl_rl run.
"""
