from .gce import GeneralizedCELoss, generalized_ce
from .hsic import (RbfHSIC, hsic_biased, hsic_unbiased, rbf_kernel,
                   squared_distances)

__all__ = [
    'GeneralizedCELoss', 'generalized_ce', 'RbfHSIC', 'hsic_biased',
    'hsic_unbiased', 'rbf_kernel', 'squared_distances'
]
