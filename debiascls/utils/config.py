"""Checks on configs before anything is built."""
import difflib
from typing import Iterable

from mmengine.config import Config

from .errors import ConfigError

#: Top-level keys a debiascls config may hold besides private helpers.
KNOWN_TOP_LEVEL_KEYS = {
    'default_scope', 'model', 'model_wrapper_cfg', 'train_dataloader',
    'val_dataloader', 'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg',
    'val_evaluator', 'test_evaluator', 'optim_wrapper', 'param_scheduler',
    'default_hooks', 'custom_hooks', 'env_cfg', 'log_processor', 'log_level',
    'load_from', 'resume', 'randomness', 'visualizer', 'vis_backends',
    'work_dir', 'launcher', 'auto_scale_lr', 'experiment_name', 'cfg',
    'data_root', 'dataset_type', 'severity', 'rho', 'train_pipeline',
    'test_pipeline', 'classifier', 'num_classes', 'gpu_ids', 'sync_bn',
    'find_unused_parameters', 'runner_type', 'compile', 'strategy',
    'mnist_root', 'data_seed', 'data_preprocessor', 'label_noise',
    'label_noise_seed', 'cifar_root', 'fashion_mnist_root', 'custom_imports',
    'biased_classifiers', 'imagenet_a_root', 'imagenet_c_root',
    'valid_fraction', 'mimetics_root'
}


def check_config_keys(cfg: Config, extra: Iterable[str] = ()) -> None:
    """Refuse unknown top-level keys (typically a typo in ``--cfg-options``
    or a leaf config) with the closest known key as a hint."""
    known = KNOWN_TOP_LEVEL_KEYS | set(extra)
    for key in cfg.keys():
        if key in known or key.startswith('_'):
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f' Did you mean "{close[0]}"?' if close else ''
        raise ConfigError(f'Unknown config key "{key}" in {cfg.filename}.'
                       f'{hint} Known top-level keys are listed in '
                       'debiascls/utils/config.py (KNOWN_TOP_LEVEL_KEYS).')
