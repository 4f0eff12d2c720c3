from .base import BaseDebiasAlgorithm
from .vanilla import Vanilla

__all__ = ['BaseDebiasAlgorithm', 'Vanilla']
