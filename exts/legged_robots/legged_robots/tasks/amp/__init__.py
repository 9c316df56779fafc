"""AMP tasks: any velocity env cfg plus reference clips, an ``amp`` observation group and
reference-state initialisation (``make_amp_env_cfg``)."""

from .amp_env_cfg import make_amp_env_cfg

__all__ = ["make_amp_env_cfg"]
