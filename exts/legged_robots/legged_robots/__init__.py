"""st_gym legged robots: robots, tasks, runners and the deployment runtime.

Kept import-light on purpose: importing ``legged_robots`` pulls in nothing heavy.
Tasks register when ``legged_robots.tasks`` is imported (mjlab's ``mjlab.tasks``
entry point does that for mjlab's own tools); the deploy runtime never needs torch.
"""

__version__ = "0.1.0"
