from .bias_committee_hook import BiasCommitteeHook
from .checkpoint_format_hook import CheckpointFormatHook
from .denoising_hook import DenoisingHook
from .kernel_radius_hook import KernelRadiusHook
from .linear_ramp_hook import LinearRampHook
from .per_sample_score_hook import PerSampleScoreHook
from .per_sample_sync_check_hook import PerSampleSyncCheckHook
from .pgd_scoring_hook import PGDScoringHook
from .random_state_hook import RandomStateHook
from .train_phase_hook import TrainPhaseHook
from .visualization_hook import BiasVisualizationHook

__all__ = [
    'BiasCommitteeHook', 'CheckpointFormatHook', 'DenoisingHook',
    'KernelRadiusHook', 'LinearRampHook',
    'PGDScoringHook', 'PerSampleScoreHook', 'PerSampleSyncCheckHook', 'RandomStateHook', 'TrainPhaseHook',
    'BiasVisualizationHook'
]
