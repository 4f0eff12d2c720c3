"""debiascls: debiased image and video classification on mmengine."""
from .version import __version__

__all__ = ['__version__']
