from .cli import USER_ERRORS, run_tool
from debiascls.engine.runner.config_preparation import prepare_config
from .config_checks import check_before_build
from .setup_env import register_all_modules

__all__ = [
    'USER_ERRORS', 'check_before_build', 'prepare_config',
    'register_all_modules', 'run_tool'
]
