"""Validating a config before the Runner builds anything (its preparation:
:mod:`debiascls.engine.runner.config_preparation`)."""
import difflib
from typing import Iterable

from mmengine.config import Config
from mmengine.registry import Registry

from debiascls.engine.runner.config_preparation import dataset_configs
from debiascls.registry import DATASETS, MODELS
from debiascls.utils import ConfigError, check_config_keys


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
    unknown top-level keys, an unknown method name, an unknown dataset."""
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
