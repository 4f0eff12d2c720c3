"""One optimizer wrapper per model of an algorithm."""
import copy
from typing import Dict, Optional

from mmengine.config import ConfigDict
from mmengine.optim import (DefaultOptimWrapperConstructor, OptimWrapper,
                            OptimWrapperDict)
from torch import nn

from debiascls.registry import OPTIM_WRAPPER_CONSTRUCTORS


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiModelOptimWrapperConstructor:
    """Builds an ``OptimWrapperDict`` with one ``OptimWrapper`` (optimizer,
    gradient clipping, AMP) per model of a
    :class:`~debiascls.models.BaseDebiasAlgorithm`, keyed by model name.

    mmengine has no such constructor (its default one builds a single
    optimizer over all parameters); mmagic's GAN constructor is the model.

    Config::

        optim_wrapper = dict(
            constructor='MultiModelOptimWrapperConstructor',
            type='OptimWrapper',
            optimizer=dict(type='Adam', lr=1e-3),          # every model
            per_model=dict(biased=dict(optimizer=dict(lr=1e-2))))  # overrides

    A plain list ``param_scheduler`` then applies to every optimizer; a dict
    keyed by model name gives each its own schedule (mmengine's rule).
    Parameter groups an algorithm declares in ``extra_optim_modules()``
    (e.g. CosFairNet's ``realign``) get a wrapper too, configured the same
    way.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        cfg = dict(copy.deepcopy(optim_wrapper_cfg))
        self.per_model: Dict[str, dict] = dict(cfg.pop('per_model', {}) or {})
        if 'optimizer' not in cfg:
            raise KeyError('optim_wrapper needs an "optimizer" entry, e.g. '
                           "optimizer=dict(type='Adam', lr=1e-3).")
        self.shared = cfg
        self.paramwise_cfg = paramwise_cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if hasattr(model, 'module'):
            model = model.module
        models = getattr(model, 'models', None)
        if not isinstance(models, nn.ModuleDict):
            raise TypeError(
                'MultiModelOptimWrapperConstructor needs an algorithm with a '
                f'`models` ModuleDict, got {type(model).__name__}.')
        groups = dict(models.items())
        extra = getattr(model, 'extra_optim_modules', dict)()
        clash = set(extra) & set(groups)
        if clash:
            raise KeyError(f'{type(model).__name__}: extra optimizer groups '
                           f'{sorted(clash)} share a name with its models.')
        groups.update(extra)
        unknown = set(self.per_model) - set(groups)
        if unknown:
            raise KeyError(
                f'optim_wrapper.per_model names {sorted(unknown)}, but the '
                f'algorithm {type(model).__name__} has the models '
                f'{sorted(models.keys())}'
                + (f' and the optimizer groups {sorted(extra)}'
                   if extra else '') + '.')
        return OptimWrapperDict(**{
            name: self.build_for(name, module)
            for name, module in groups.items()
        })

    def build_for(self, name: str, module: nn.Module) -> OptimWrapper:
        """The optimizer wrapper that model ``name`` gets, built for
        ``module`` (e.g. a fresh copy of the biased model for
        BiasEnsemble's committee)."""
        cfg = ConfigDict(_merge(self.shared, self.per_model.get(name, {})))
        constructor = DefaultOptimWrapperConstructor(
            cfg, copy.deepcopy(self.paramwise_cfg))
        return constructor(module)

    @classmethod
    def from_optim_wrapper_cfg(
            cls, optim_wrapper: dict) -> 'MultiModelOptimWrapperConstructor':
        """Build from a config's whole ``optim_wrapper`` entry (with its
        ``constructor`` and ``paramwise_cfg`` keys)."""
        cfg = copy.deepcopy(dict(optim_wrapper))
        cfg.pop('constructor', None)
        paramwise = cfg.pop('paramwise_cfg', None)
        return cls(cfg, paramwise)
