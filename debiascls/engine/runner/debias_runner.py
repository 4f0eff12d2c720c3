"""The Runner of debiascls configs."""
import copy

from mmengine.config import Config
from mmengine.runner import Runner

from debiascls.registry import RUNNERS
from .text_cached_config import TextCachedConfig


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

    @property
    def cfg(self) -> Config:
        return self._debias_cfg

    @cfg.setter
    def cfg(self, cfg: Config) -> None:
        self._debias_cfg = TextCachedConfig.wrap(cfg)

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'DebiasRunner':
        from debiascls.apis.config_checks import prepare_config
        cfg = copy.deepcopy(cfg)
        prepare_config(cfg)
        return super().from_cfg(cfg)
