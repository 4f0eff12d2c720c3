from .checkpoint_format_hook import CheckpointFormatHook

__all__ = ['CheckpointFormatHook']
