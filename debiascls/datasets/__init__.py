from .base_dataset import UNKNOWN_BIAS, BaseBiasDataset, DatasetError

__all__ = ['UNKNOWN_BIAS', 'BaseBiasDataset', 'DatasetError']
