"""Drawing helpers for the visualisation hook and the analysis tools."""
from .accuracy_matrix import draw_accuracy_matrix

__all__ = ['draw_accuracy_matrix']
