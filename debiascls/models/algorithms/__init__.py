from .base import BaseDebiasAlgorithm
from .cosfairnet import CosFairNet
from .ie import IE
from .lff import LfF
from .pgd import PGD
from .vanilla import Vanilla

__all__ = ['BaseDebiasAlgorithm', 'CosFairNet', 'IE', 'LfF', 'PGD', 'Vanilla']
