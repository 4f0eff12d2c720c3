from .grad_cam import gap_linear_grad_cam, grad_cam, max_normalize
from .per_sample_state import (PerSampleState, all_gather_rows,
                               first_occurrence)

__all__ = [
    'PerSampleState', 'all_gather_rows', 'first_occurrence', 'grad_cam',
    'gap_linear_grad_cam', 'max_normalize'
]
