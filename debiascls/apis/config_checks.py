"""Preparing and validating a config before the Runner builds anything."""
import difflib
from typing import Iterable

import torch
from mmengine.config import Config
from mmengine.registry import Registry

from debiascls.registry import DATASETS, MODELS
from debiascls.utils import (ConfigError, check_config_keys,
                             register_all_modules)


def prepare_config(cfg: Config) -> Config:
    """Register debiascls's modules and adapt the config to the machine:
    without CUDA, distributed runs use the gloo backend."""
    register_all_modules(init_default_scope=False)
    if not torch.cuda.is_available():
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    return cfg


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
    raise ConfigError(f'{where}: "{type_name}" is not a registered debiascls '
                   f'{registry.name}.{hint} Available: '
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
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if loader and isinstance(loader.get('dataset'), dict):
            _check_type(DATASETS, loader.dataset.get('type'),
                        f'{name}.dataset.type')
