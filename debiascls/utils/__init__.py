from .config import check_config_keys
from .errors import ConfigError
from .dist import (destroy_process_group_if_initialized,
                   init_cpu_process_group_if_needed, use_gloo)

__all__ = [
    'ConfigError', 'check_config_keys', 'init_cpu_process_group_if_needed',
    'destroy_process_group_if_initialized', 'use_gloo'
]
