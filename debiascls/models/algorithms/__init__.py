from .base import BaseDebiasAlgorithm
from .cosfairnet import CosFairNet
from .disent import DisEnt
from .ie import IE
from .learned_mixin import LearnedMixin
from .lff import LfF
from .pgd import PGD
from .rebias import BiasedByDesignAlgorithm, ReBias
from .rubi import RUBi
from .vanilla import Vanilla

__all__ = [
    'BaseDebiasAlgorithm', 'BiasedByDesignAlgorithm', 'CosFairNet', 'DisEnt',
    'IE',
    'LearnedMixin', 'LfF', 'PGD', 'ReBias', 'RUBi', 'Vanilla'
]
