"""st_rl AMP-PPO: discriminator, losses, style reward and replay (``discriminator``), the
algorithm on rsl_rl's PPO (``algorithm``) and its runner (``runner``). Imports rsl_rl,
torch and ``legged_robots.tasks`` (expert windows); nothing above ``rl``.
"""
