from .gce import GeneralizedCELoss, generalized_ce

__all__ = ['GeneralizedCELoss', 'generalized_ce']
