from .base import BaseTransform
from .formatting import PackInputs
from .loading import LoadImageFromFile
from .processing import (CenterCrop, ColorJitter, RandomCrop, RandomFlip,
                         RandomResizedCrop, RandomRotation, Resize)

__all__ = [
    'BaseTransform', 'LoadImageFromFile', 'Resize', 'CenterCrop',
    'RandomCrop', 'RandomFlip', 'RandomResizedCrop', 'RandomRotation',
    'ColorJitter', 'PackInputs'
]
