from .infinite_sampler import ResumableInfiniteSampler

__all__ = ['ResumableInfiniteSampler']
