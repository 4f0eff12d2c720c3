"""The config that the Runner builds from: top-level keys filled into the
objects that take them, optional splits dropped, workers planned
(:func:`prepare_config`, called by :class:`DebiasRunner` and the tools).

The registries import the sub-packages that fill them on first use
(``locations`` in :mod:`debiascls.registry`), so looking a type up here
needs no import of its own.
"""
import copy
import inspect
from typing import Iterator, Tuple

import torch
from mmengine.config import Config

from debiascls.registry import DATASETS, MODELS
from debiascls.utils import ConfigError, use_gloo
from debiascls.utils.threads import resolve_workers


#: Top-level keys that fill the argument of the same name of every dataset
#: that takes it and does not set it itself.
SHARED_DATASET_KEYS = ('data_root', 'severity', 'rho', 'mnist_root',
                       'data_seed', 'cifar_root', 'fashion_mnist_root',
                       'label_noise', 'label_noise_seed', 'imagenet_a_root',
                       'imagenet_c_root', 'valid_fraction',
                       'mimetics_root')
#: Top-level keys that switch an optional evaluation split on: an
#: ``extra_splits`` entry whose dataset takes one of them is left out while
#: neither the entry nor the top level sets it (``imagenet_c_root = None``
#: drops the ImageNet-C split of the 9-class ImageNet configs).
OPTIONAL_SPLIT_KEYS = ('imagenet_a_root', 'imagenet_c_root')


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


def loader_configs(cfg: Config) -> Iterator[Tuple[str, dict]]:
    """``(config key, data loader config)`` of every data loader: train,
    val, test and the ``extra_splits`` of ``val_cfg`` / ``test_cfg``."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if isinstance(cfg.get(name), dict):
            yield name, cfg[name]
    for loop in ('val_cfg', 'test_cfg'):
        extra = (cfg.get(loop) or {}).get('extra_splits') or {}
        for key, loader in extra.items():
            if isinstance(loader, dict):
                yield f'{loop}.extra_splits.{key}', loader


def dataset_configs(cfg: Config) -> Iterator[Tuple[str, dict]]:
    """``(config key, dataset config)`` of every data loader
    (:func:`loader_configs`)."""
    for name, loader in loader_configs(cfg):
        if isinstance(loader.get('dataset'), dict):
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


def drop_unset_optional_splits(cfg: Config) -> None:
    """Remove the ``extra_splits`` of ``val_cfg`` / ``test_cfg`` whose
    dataset takes a key of :data:`OPTIONAL_SPLIT_KEYS` that is None both in
    the dataset config and at the top level."""
    for loop in ('val_cfg', 'test_cfg'):
        extra = (cfg.get(loop) or {}).get('extra_splits') or {}
        for name in list(extra):
            loader = extra[name]
            dataset = loader.get('dataset') if isinstance(loader,
                                                          dict) else None
            if not isinstance(dataset, dict):
                continue
            cls = DATASETS.get(dataset.get('type', ''))
            if cls is not None and any(
                    accepts(cls, key) and dataset.get(key) is None
                    and cfg.get(key) is None for key in OPTIONAL_SPLIT_KEYS):
                del extra[name]


def fill_classifier(cfg: Config) -> None:
    """Give the algorithm the top-level ``classifier`` (set by a config in
    ``configs/_base_/models/``) unless ``model.classifier`` is set, the
    top-level ``biased_classifiers`` (ReBias's set G of biased-by-design
    models) to algorithms that take them, and every head the top-level
    ``num_classes`` (set by a dataset config) unless the head sets it.

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
    biased = cfg.get('biased_classifiers')
    algorithm = MODELS.get(model.get('type', '')) if isinstance(
        model.get('type'), str) else None
    if (biased is not None and 'biased_classifiers' not in model
            and algorithm is not None
            and accepts(algorithm, 'biased_classifiers')):
        model['biased_classifiers'] = copy.deepcopy(biased)
    num_classes = cfg.get('num_classes')
    classifiers = [model.get('classifier'), model.get('biased_classifier')]
    extra = model.get('biased_classifiers')
    classifiers += extra if isinstance(extra, (list, tuple)) else [extra]
    for classifier_cfg in classifiers:
        head = (classifier_cfg or {}).get('head')
        if (isinstance(head, dict) and num_classes is not None
                and 'num_classes' not in head):
            head['num_classes'] = num_classes


def plan_loader_workers(cfg: Config) -> None:
    """Resolve ``num_workers='auto'`` of every data loader
    (:func:`~debiascls.utils.threads.resolve_workers`), switch
    ``persistent_workers`` off where there are no workers, and keep no
    evaluation workers alive between evaluations (idle processes holding
    prefetched batches while training runs) unless
    ``env_cfg.persistent_eval_workers=True``."""
    keep_eval = bool((cfg.get('env_cfg') or {}).get('persistent_eval_workers',
                                                    False))
    for name, loader in loader_configs(cfg):
        try:
            loader['num_workers'] = resolve_workers(
                loader.get('num_workers', 0))
        except ValueError as err:
            raise ConfigError(f'{name}: {err}') from None
        if loader['num_workers'] == 0 or (name != 'train_dataloader'
                                          and not keep_eval):
            if loader.get('persistent_workers'):
                loader['persistent_workers'] = False


def prepare_config(cfg: Config) -> Config:
    """Adapt the config before the Runner builds anything: shared dataset
    keys are filled in (:func:`fill_shared_dataset_keys`), optional extra
    splits whose root is None are dropped
    (:func:`drop_unset_optional_splits`), the algorithm gets the top-level
    classifier (:func:`fill_classifier`), data-loader workers are planned
    (:func:`plan_loader_workers`) and, without CUDA, distributed runs use
    the gloo backend."""
    fill_shared_dataset_keys(cfg)
    drop_unset_optional_splits(cfg)
    fill_classifier(cfg)
    plan_loader_workers(cfg)
    if not torch.cuda.is_available():
        use_gloo(cfg)
    return cfg
