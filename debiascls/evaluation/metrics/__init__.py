from .debias_accuracy import METRIC_NAMES, DebiasAccuracy, group_accuracies
from .texture_unbiased_accuracy import (TextureUnbiasedAccuracy,
                                        texture_unbiased_accuracy)

__all__ = ['DebiasAccuracy', 'group_accuracies', 'METRIC_NAMES',
           'TextureUnbiasedAccuracy', 'texture_unbiased_accuracy']
