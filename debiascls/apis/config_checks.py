"""Validating a config before the Runner builds anything (its preparation:
:mod:`debiascls.engine.runner.config_preparation`)."""
import difflib
from typing import Iterable

from mmengine.config import Config
from mmengine.registry import Registry

from debiascls.engine.runner.config_preparation import dataset_configs
from debiascls.registry import DATASETS, HOOKS, MODELS
from debiascls.utils import ConfigError, check_config_keys

#: Hooks whose work the algorithms do themselves now: what to change.
REMOVED_HOOKS = {
    'TrainPhaseHook':
    'an algorithm reads the iteration and switches its phases itself; '
    'remove it from custom_hooks and set the phases in the model (IE: '
    'model.t1, model.t2; PGD: model.bias_iters; LearnedMixin: '
    'model.pretrain_iters or model.pretrain_epochs)',
    'LinearRampHook':
    "IE ramps lambda_main from T2 (model.t2) to the last iteration itself "
    '(Eq. 13); remove it from custom_hooks',
    'PerSampleScoreHook':
    'IE updates its BN scores at the end of each step itself; remove it '
    'from custom_hooks',
}


def _check_type(registry: Registry, type_name, where: str,
                base: type = object) -> None:
    if not isinstance(type_name, str):
        return
    with registry.switch_scope_and_registry('debiascls') as reg:
        found = reg.get(type_name)
    if found is not None:
        return
    names: Iterable[str] = [
        name for name, cls in registry.module_dict.items()
        if isinstance(cls, type) and issubclass(cls, base)
    ]
    close = difflib.get_close_matches(type_name, sorted(names), n=1)
    hint = f' Did you mean "{close[0]}"?' if close else ''
    raise ConfigError(f'{where}: "{type_name}" is not a registered '
                      f'debiascls {registry.name}.{hint} Available: '
                      f'{", ".join(sorted(names))}.')


def check_before_build(cfg: Config) -> None:
    """Fail fast, with the key and the fix, on a config that cannot run:
    unknown top-level keys, an unknown method name, dataset or hook."""
    from debiascls.models import BaseDebiasAlgorithm
    check_config_keys(cfg)
    if 'model' not in cfg:
        raise ConfigError(f'{cfg.filename} has no "model"; inherit a model '
                          'config from configs/_base_/models/.')
    _check_type(MODELS, cfg.model.get('type'), 'model.type',
                BaseDebiasAlgorithm)
    algorithm = MODELS.get(cfg.model.get('type')) if isinstance(
        cfg.model.get('type'), str) else None
    if isinstance(algorithm, type) and issubclass(algorithm,
                                                  BaseDebiasAlgorithm):
        algorithm.check_config(cfg)
    for where, dataset in dataset_configs(cfg):
        _check_type(DATASETS, dataset.get('type'), f'{where}.type')
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        kind = hook.get('type') if isinstance(hook, dict) else None
        if kind in REMOVED_HOOKS:
            raise ConfigError(f'custom_hooks.{i}: {kind} no longer exists: '
                              f'{REMOVED_HOOKS[kind]}.')
        _check_type(HOOKS, kind, f'custom_hooks.{i}.type')
