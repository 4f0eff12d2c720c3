from .base import BaseTransform
from .formatting import PackInputs
from .loading import LoadImageFromFile
from .processing import (CenterCrop, ColorJitter, RandomCrop, RandomFlip,
                         RandomResizedCrop, RandomRotation, Resize)
from .video import (DecodeFrames, OpenVideo, PackVideoInputs, SampleFrames,
                    VideoFlip, VideoRandomCrop, VideoShortSideScale,
                    VideoUniformCrop)

__all__ = [
    'BaseTransform', 'LoadImageFromFile', 'Resize', 'CenterCrop',
    'RandomCrop', 'RandomFlip', 'RandomResizedCrop', 'RandomRotation',
    'ColorJitter', 'PackInputs', 'OpenVideo', 'SampleFrames', 'DecodeFrames',
    'VideoShortSideScale', 'VideoRandomCrop', 'VideoUniformCrop', 'VideoFlip',
    'PackVideoInputs'
]
