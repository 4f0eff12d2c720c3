"""Preparing and validating a config before the Runner builds anything."""
import copy
import difflib
import inspect
from typing import Iterable, Iterator, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import Registry

from debiascls.registry import DATASETS, MODELS
from debiascls.utils import (ConfigError, check_config_keys,
                             register_all_modules, use_gloo)


#: Top-level keys that fill the argument of the same name of every dataset
#: that takes it and does not set it itself.
SHARED_DATASET_KEYS = ('data_root', 'severity', 'rho', 'mnist_root',
                       'data_seed', 'cifar_root', 'fashion_mnist_root',
                       'label_noise', 'label_noise_seed')


def accepts(cls: type, key: str) -> bool:
    """Whether the dataset class takes ``key``: in its own signature or,
    through ``**kwargs``, in a base class's (e.g. ``label_noise`` of
    :class:`~debiascls.datasets.BaseBiasDataset`)."""
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters
        if key in params:
            return True
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return False
    return False


def dataset_configs(cfg: Config) -> Iterator[Tuple[str, dict]]:
    """``(config key, dataset config)`` of every data loader: train, val,
    test and the ``extra_splits`` of ``val_cfg`` / ``test_cfg``."""
    loaders = [(n, cfg.get(n)) for n in ('train_dataloader', 'val_dataloader',
                                         'test_dataloader')]
    for loop in ('val_cfg', 'test_cfg'):
        extra = (cfg.get(loop) or {}).get('extra_splits') or {}
        loaders.extend(
            (f'{loop}.extra_splits.{k}', v) for k, v in extra.items())
    for name, loader in loaders:
        if isinstance(loader, dict) and isinstance(
                loader.get('dataset'), dict):
            yield f'{name}.dataset', loader['dataset']


def fill_shared_dataset_keys(cfg: Config) -> None:
    """Copy top-level :data:`SHARED_DATASET_KEYS` (e.g. ``mnist_root``) into
    every dataset config whose class takes that argument and that does not
    set it, so a leaf config says ``severity = '2pct'`` once and one
    ``--cfg-options mnist_root=PATH`` reaches all splits."""
    for key in SHARED_DATASET_KEYS:
        value = cfg.get(key)
        if value is None:
            continue
        for _, dataset in dataset_configs(cfg):
            cls = DATASETS.get(dataset.get('type', ''))
            if cls is not None and key not in dataset and accepts(cls, key):
                dataset[key] = value


def fill_classifier(cfg: Config) -> None:
    """Give the algorithm the top-level ``classifier`` (set by a config in
    ``configs/_base_/models/``) unless ``model.classifier`` is set, and its
    head the top-level ``num_classes`` (set by a dataset config) unless the
    head sets it.

    So a method config (``configs/_base_/methods/``) says only
    ``model = dict(type='IE', ...)``, and any backbone and data set combine
    with any method.
    """
    model = cfg.get('model')
    if not isinstance(model, dict):
        return
    classifier = cfg.get('classifier')
    if classifier is not None and 'classifier' not in model:
        model['classifier'] = copy.deepcopy(classifier)
    num_classes = cfg.get('num_classes')
    for key in ('classifier', 'biased_classifier'):
        head = (model.get(key) or {}).get('head')
        if (isinstance(head, dict) and num_classes is not None
                and 'num_classes' not in head):
            head['num_classes'] = num_classes


def prepare_config(cfg: Config) -> Config:
    """Register debiascls's modules and adapt the config: shared dataset
    keys are filled in (:func:`fill_shared_dataset_keys`), the algorithm
    gets the top-level classifier (:func:`fill_classifier`) and, without
    CUDA, distributed runs use the gloo backend."""
    register_all_modules(init_default_scope=False)
    fill_shared_dataset_keys(cfg)
    fill_classifier(cfg)
    if not torch.cuda.is_available():
        use_gloo(cfg)
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
    for where, dataset in dataset_configs(cfg):
        _check_type(DATASETS, dataset.get('type'), f'{where}.type')
