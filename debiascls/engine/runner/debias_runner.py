"""The Runner of debiascls configs."""
import copy
from typing import Dict, Optional, Union

from mmengine.config import Config
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from debiascls.datasets.in_memory import InMemoryDataLoader, in_memory_loader
from debiascls.registry import DATA_SAMPLERS, DATASETS, RUNNERS
from debiascls.utils import ConfigError
from .config_preparation import prepare_config
from .text_cached_config import TextCachedConfig

#: Options of ``in_memory`` in a data loader config.
IN_MEMORY_KEYS = ('max_mb', )


def build_in_memory(dataloader: dict, seed: Optional[int],
                    diff_rank_seed: bool
                    ) -> Union[InMemoryDataLoader, dict]:
    """The :class:`~debiascls.datasets.in_memory.InMemoryDataLoader` of a
    data loader config with ``in_memory=dict(max_mb=...)``, or, if the split
    does not fit, the config (without ``in_memory``, with the built
    dataset) for mmengine's loader."""
    cfg = copy.deepcopy(dataloader)
    options = dict(cfg.pop('in_memory'))
    unknown = sorted(set(options) - set(IN_MEMORY_KEYS))
    if unknown:
        raise ConfigError(f'in_memory: unknown option(s) {unknown}; valid: '
                          f'{list(IN_MEMORY_KEYS)} (e.g. in_memory=dict('
                          'max_mb=1024)).')
    collate = (cfg.get('collate_fn') or {}).get('type', 'default_collate')
    if collate != 'default_collate':
        raise ConfigError(f'in_memory forms batches as default_collate does; '
                          f'this loader uses collate_fn "{collate}": remove '
                          'in_memory or use default_collate.')
    dataset = cfg['dataset']
    if isinstance(dataset, dict):
        dataset = DATASETS.build(dataset)
        if hasattr(dataset, 'full_init'):
            dataset.full_init()
    cfg['dataset'] = dataset
    sampler = DATA_SAMPLERS.build(
        cfg['sampler'],
        default_args=dict(dataset=dataset,
                          seed=None if diff_rank_seed else seed))
    loader = in_memory_loader(
        dataset, sampler, int(cfg['batch_size']),
        float(options.get('max_mb', 1024)),
        drop_last=bool(cfg.get('drop_last', False)))
    return cfg if loader is None else loader


@RUNNERS.register_module()
class DebiasRunner(Runner):
    """mmengine's ``Runner`` that prepares a debiascls config before
    building anything (:func:`debiascls.apis.prepare_config`: shared dataset
    keys such as ``severity`` and ``mnist_root`` are filled into every split,
    gloo is chosen without CUDA).

    ``configs/_base_/default_runtime.py`` sets ``runner_type =
    'DebiasRunner'``; build it with ``RUNNERS.build(cfg)`` or
    ``DebiasRunner.from_cfg(cfg)`` (as the tools do). mmengine's plain
    ``Runner.from_cfg`` skips the preparation.

    Its ``cfg`` formats its text once (:class:`TextCachedConfig`), not on
    every checkpoint.
    """

    @staticmethod
    def build_dataloader(dataloader: Union[DataLoader, Dict],
                         seed: Optional[int] = None,
                         diff_rank_seed: bool = False):
        """mmengine's ``build_dataloader``, plus the in-memory path: a
        config with ``in_memory=dict(max_mb=...)`` gives an
        :class:`~debiascls.datasets.in_memory.InMemoryDataLoader` when the
        decoded split fits (see :mod:`debiascls.datasets.in_memory`)."""
        if isinstance(dataloader, dict) and 'in_memory' in dataloader:
            if dataloader['in_memory'] is None:  # switched off
                dataloader = copy.copy(dataloader)
                dataloader.pop('in_memory')
            else:
                built = build_in_memory(dataloader, seed, diff_rank_seed)
                if isinstance(built, InMemoryDataLoader):
                    return built
                dataloader = built
        return Runner.build_dataloader(dataloader, seed, diff_rank_seed)

    @property
    def cfg(self) -> Config:
        return self._debias_cfg

    @cfg.setter
    def cfg(self, cfg: Config) -> None:
        self._debias_cfg = TextCachedConfig.wrap(cfg)

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'DebiasRunner':
        cfg = copy.deepcopy(cfg)
        prepare_config(cfg)
        return super().from_cfg(cfg)
