from .bias_committee_hook import BiasCommitteeHook
from .checkpoint_format_hook import CheckpointFormatHook
from .denoising_hook import DenoisingHook
from .kernel_radius_hook import KernelRadiusHook
from .per_sample_sync_check_hook import PerSampleSyncCheckHook
from .pgd_scoring_hook import PGDScoringHook
from .random_state_hook import RandomStateHook
from .visualization_hook import BiasVisualizationHook

__all__ = [
    'BiasCommitteeHook', 'CheckpointFormatHook', 'DenoisingHook',
    'KernelRadiusHook', 'PGDScoringHook',
    'PerSampleSyncCheckHook', 'RandomStateHook', 'BiasVisualizationHook'
]
