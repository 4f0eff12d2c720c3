from .cli import USER_ERRORS, run_tool
from .config_checks import check_before_build, prepare_config

__all__ = ['USER_ERRORS', 'check_before_build', 'prepare_config', 'run_tool']
