from .base import BaseDebiasAlgorithm
from .ie import IE
from .lff import LfF
from .vanilla import Vanilla

__all__ = ['BaseDebiasAlgorithm', 'IE', 'LfF', 'Vanilla']
