"""Drawing helpers for the visualisation hook and the analysis tools."""
from .accuracy_matrix import draw_accuracy_matrix
from .figure import figure_to_rgb, write_csv, write_json, write_png
from .gradcam_overlay import (denormalize, draw_cam_overlay, draw_ie_pair,
                              heat_overlay, select_cell_samples)

__all__ = [
    'denormalize', 'draw_accuracy_matrix', 'draw_cam_overlay',
    'draw_ie_pair', 'figure_to_rgb', 'heat_overlay', 'select_cell_samples',
    'write_csv', 'write_json', 'write_png'
]
