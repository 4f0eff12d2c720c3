"""The base class of debiascls's data transforms."""
from abc import ABCMeta, abstractmethod
from typing import ClassVar


class BaseTransform(metaclass=ABCMeta):
    """A step of a data pipeline: takes the results dict of a sample
    (``img``, ``img_path``, ``gt_label``, ...) and returns it transformed.

    Random transforms draw from the global ``np.random`` state, which
    mmengine seeds per dataloader worker, so ``np.random.seed`` makes a
    pipeline reproducible.

    ``deterministic`` says that the step maps a sample to the same output
    every time (no randomness); only pipelines of such steps may be decoded
    once into memory (:mod:`debiascls.datasets.in_memory`).
    """

    deterministic: ClassVar[bool] = False

    def __call__(self, results: dict) -> dict:
        return self.transform(results)

    @abstractmethod
    def transform(self, results: dict) -> dict:
        """Transform ``results`` (may modify it in place) and return it."""

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items()
                         if not k.startswith('_'))
        return f'{type(self).__name__}({args})'
