from .stage_multistep_lr import StageMultiStepLR

__all__ = ['StageMultiStepLR']
