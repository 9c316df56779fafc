"""st_rl training: PPO runner, checkpoints, config overrides, ONNX + deploy.yaml export.

May import ``legged_robots.tasks``, ``legged_robots.deploy`` and mjlab; never evaluation or
sim2sim, which sit above it. Import the submodules you need (``legged_robots.rl.train``,
``.runner``, ``.exporter``); this module imports nothing heavy so that ``cli`` can set the
OpenGL backend before mjlab is loaded.
"""
