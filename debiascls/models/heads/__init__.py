from .gap_linear_head import GAPLinearHead
from .gap_mlp_head import GAPMLPHead

__all__ = ['GAPLinearHead', 'GAPMLPHead']
