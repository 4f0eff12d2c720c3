from .debias_runner import DebiasRunner
from .loops import (DebiasIterBasedTrainLoop, MultiSplitTestLoop,
                    MultiSplitValLoop)

__all__ = [
    'DebiasRunner', 'DebiasIterBasedTrainLoop', 'MultiSplitValLoop',
    'MultiSplitTestLoop'
]
