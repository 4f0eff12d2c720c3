from .image_classifier import ImageClassifier
from .video_classifier import VideoClassifier

__all__ = ['ImageClassifier', 'VideoClassifier']
