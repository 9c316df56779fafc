"""st_rl: PPO training, evaluation and export on rsl_rl's OnPolicyRunner.

Import the submodules you need (``legged_robots.rl.train``, ``.play``, ``.runner``,
``.exporter``); this package module imports nothing heavy so that ``cli`` can set the
OpenGL backend before mjlab is loaded.
"""
