from .gap_linear_head import GAPLinearHead

__all__ = ['GAPLinearHead']
