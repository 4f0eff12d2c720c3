from .checkpoint_format_hook import CheckpointFormatHook
from .visualization_hook import BiasVisualizationHook

__all__ = ['CheckpointFormatHook', 'BiasVisualizationHook']
