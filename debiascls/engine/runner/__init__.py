from .loops import (DebiasIterBasedTrainLoop, MultiSplitTestLoop,
                    MultiSplitValLoop)

__all__ = ['DebiasIterBasedTrainLoop', 'MultiSplitValLoop', 'MultiSplitTestLoop']
