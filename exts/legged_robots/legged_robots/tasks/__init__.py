"""st_gym tasks. Importing this package registers every task (mjlab + gymnasium)."""

from . import config as config
from .config import g1 as g1
from .config import go1 as go1
from .config.g1 import skrl_agents as _g1_skrl_agents  # noqa: F401  (after the tasks they extend)
from .config.go1 import skrl_agents as _go1_skrl_agents  # noqa: F401
from .registry import check_task_id, load_agent_cfg, load_env_cfg, make_env, task_ids, task_info

__all__ = ["check_task_id", "load_agent_cfg", "load_env_cfg", "make_env", "task_ids", "task_info"]
