from .distributed import DebiasDataParallel

__all__ = ['DebiasDataParallel']
