from .debias_accuracy import METRIC_NAMES, DebiasAccuracy, group_accuracies

__all__ = ['DebiasAccuracy', 'group_accuracies', 'METRIC_NAMES']
