from .config_checks import check_before_build, prepare_config

__all__ = ['check_before_build', 'prepare_config']
