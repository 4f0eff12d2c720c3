"""Base class of every dataset whose samples carry a bias attribute."""
import copy
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from debiascls.registry import DATASETS, TRANSFORMS

#: ``bias_label`` of a sample whose bias attribute is not known.
UNKNOWN_BIAS = -1
#: Tag of the label-noise seed sequence (keeps it apart from other uses of
#: the same seed).
_NOISE_KEY = 0x4E4F4953


class DatasetError(RuntimeError):
    """A dataset is missing, malformed or inconsistent.

    The message always names the offending path, key or value and says how to
    fix it.
    """


def _check_label_noise(name: str, label_noise, seed) -> tuple:
    """Validated ``(label_noise, label_noise_seed)``."""
    if (isinstance(label_noise, bool)
            or not isinstance(label_noise, (int, float, np.integer,
                                            np.floating))
            or not 0 <= float(label_noise) < 1):
        raise ValueError(f'{name}: label_noise={label_noise!r} must be a '
                         'fraction in [0, 1) (e.g. 0.1 flips 10 % of the '
                         'train labels).')
    if (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
            or seed < 0):
        raise ValueError(f'{name}: label_noise_seed={seed!r} must be a '
                         'non-negative integer.')
    return float(label_noise), int(seed)


@DATASETS.register_module()
class BaseBiasDataset(BaseDataset):
    """A classification dataset whose samples also carry a bias label.

    Each entry of the data list is a dict with

    - ``img_path`` (str) *or* ``img`` (``np.ndarray``, HxWxC uint8, RGB);
    - ``gt_label`` (int): the target class;
    - ``bias_label`` (int): the value of the bias attribute, or
      :data:`UNKNOWN_BIAS` (-1) where it is not known;
    - ``sample_idx`` (int): the position in the dataset, added by
      :meth:`get_data_info`. Every per-sample statistic of a method (EMA
      losses, scores, sampling weights) is keyed by it.

    Whether a sample is bias-aligned is *derived* from ``gt_label`` and
    ``bias_label`` through ``metainfo['aligned_bias']`` (the bias value that
    each class is aligned with; identity by default), never stored.

    ``metainfo`` holds ``classes`` (class names), ``bias_attribute`` (the name
    of the bias attribute, e.g. ``'color'``), ``bias_classes`` (names of its
    values) and ``aligned_bias``.

    Subclasses implement :meth:`load_data_list`. Only the evaluation and the
    explicitly bias-supervised methods may read ``bias_label``: the data
    preprocessor drops it from training batches (see
    :class:`debiascls.models.BiasDataPreprocessor`).

    Label noise (PGD's noisy-label experiments, Table 2 and Appendix B.3):
    with ``label_noise=r > 0`` on the **train** split, exactly
    ``round(r * N)`` samples (halves rounded up), drawn uniformly at random
    whatever their bias label, get a ``gt_label`` flipped uniformly to one
    of the *other* classes; both draws come from ``label_noise_seed`` only,
    so the noisy labels are the same on every run and rank. The flipped
    ``gt_label`` is what training, samplers and metrics see; the original is
    kept as ``clean_label`` in each data info (never packed into batches),
    for analysis through :meth:`get_clean_labels` / :meth:`get_noisy_mask`.
    ``bias_label`` is unchanged, so a flipped aligned sample usually counts
    as conflicting. Valid and test splits are never noisy (the arguments
    are ignored there, so a shared config value is harmless). The noise is
    drawn on the full data list, before ``indices`` selects a subset.

    Args:
        label_noise: Fraction of train labels to flip, in [0, 1).
        label_noise_seed: Seed of the flips (non-negative int).
    """

    METAINFO: dict = dict(classes=None, bias_attribute=None, bias_classes=None)

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: Optional[bool] = None,
                 lazy_init: bool = False,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 max_refetch: int = 0,
                 label_noise: float = 0.0,
                 label_noise_seed: int = 0,
                 **kwargs) -> None:
        self.split = split
        self.label_noise, self.label_noise_seed = _check_label_noise(
            type(self).__name__, label_noise, label_noise_seed)
        if test_mode is None:
            test_mode = split != 'train'
        super().__init__(
            ann_file='',
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(img_path=''),
            # Built from debiascls's registry (as mmpretrain does): mmengine's
            # Compose would use its root registry, which finds debiascls's
            # transforms only under default_scope='debiascls'.
            pipeline=[
                TRANSFORMS.build(t) if isinstance(t, dict) else t
                for t in pipeline
            ],
            test_mode=test_mode,
            lazy_init=lazy_init,
            indices=indices,
            serialize_data=serialize_data,
            # A broken sample must fail loudly, never be silently replaced by
            # another one (mmengine's default refetches up to 1000 times).
            max_refetch=max_refetch,
            **kwargs)

    # ------------------------------------------------------------------ #
    # Loading and validation
    # ------------------------------------------------------------------ #
    def full_init(self) -> None:
        if self._fully_initialized:
            return
        super().full_init()
        self._labels_cache: Optional[Dict[str, np.ndarray]] = None
        self._validate()

    def filter_data(self) -> List[dict]:
        """mmengine's hook after :meth:`load_data_list`: flips train labels
        when ``label_noise`` > 0 (see the class docstring)."""
        data_list = super().filter_data()
        if self.split == 'train' and self.label_noise > 0:
            data_list = self._add_label_noise(data_list)
        return data_list

    def _add_label_noise(self, data_list: List[dict]) -> List[dict]:
        name = type(self).__name__
        num_classes = len(self.metainfo.get('classes') or ())
        if num_classes < 2:
            raise ValueError(
                f'{name}: label_noise={self.label_noise} flips labels to '
                'another class, which needs metainfo.classes with at least '
                f'2 classes (got {num_classes}).')
        n = len(data_list)
        n_flip = int(np.floor(self.label_noise * n + 0.5 + 1e-9))
        rng = np.random.default_rng(
            np.random.SeedSequence([self.label_noise_seed, _NOISE_KEY]))
        chosen = np.sort(rng.choice(n, size=n_flip, replace=False))
        shift = rng.integers(1, num_classes, size=n_flip)
        out = []
        for info in data_list:
            info = dict(info)
            info['clean_label'] = int(info['gt_label'])
            out.append(info)
        for i, s in zip(chosen.tolist(), shift.tolist()):
            clean = out[i]['clean_label']
            if not 0 <= clean < num_classes:
                raise DatasetError(
                    f'{name} ({self.split} split): gt_label {clean} of sample '
                    f'{i} is out of range [0, {num_classes}), so it cannot be '
                    'flipped. Fix the label or metainfo.classes.')
            out[i]['gt_label'] = (clean + s) % num_classes
        return out

    def _validate(self) -> None:
        """Check the loaded data list; raise :class:`DatasetError` naming the
        split and the fix where something is wrong."""
        name = type(self).__name__
        if len(self) == 0:
            raise self._empty_error()
        num_classes = len(self.metainfo.get('classes') or ())
        num_bias = len(self.metainfo.get('bias_classes') or ())
        gt, bias = self.get_gt_labels(), self.get_bias_labels()
        if num_classes:
            bad = np.flatnonzero((gt < 0) | (gt >= num_classes))
            if bad.size:
                raise DatasetError(
                    f'{name} ({self.split} split): gt_label '
                    f'{int(gt[bad[0]])} of sample {int(bad[0])} '
                    f'({self._describe(int(bad[0]))}) is out of range '
                    f'[0, {num_classes}). Fix the label or metainfo.classes.')
        if num_bias:
            bad = np.flatnonzero((bias < UNKNOWN_BIAS) | (bias >= num_bias))
            if bad.size:
                raise DatasetError(
                    f'{name} ({self.split} split): bias_label '
                    f'{int(bias[bad[0]])} of sample {int(bad[0])} '
                    f'({self._describe(int(bad[0]))}) is out of range '
                    f'[0, {num_bias}) (use -1 for unknown). Fix the label or '
                    'metainfo.bias_classes.')

    def _empty_error(self) -> DatasetError:
        return DatasetError(
            f'{type(self).__name__}: the "{self.split}" split under '
            f'data_root="{self.data_root}" has no samples. Check the data '
            'root and the layout described in docs/data_preparation.md, or '
            'generate the data with tools/data/prepare_data.py.')

    def _serialize_data(self):
        # mmengine cannot serialise an empty data list (np.concatenate of
        # nothing raises ValueError): report the empty split instead.
        if not self.data_list:
            raise self._empty_error()
        return super()._serialize_data()

    def _describe(self, idx: int) -> str:
        info = super().get_data_info(idx)
        return info.get('img_path') or f'in-memory sample {idx}'

    # ------------------------------------------------------------------ #
    # Labels as arrays (for metrics, samplers and per-sample statistics)
    # ------------------------------------------------------------------ #
    def _labels(self) -> Dict[str, np.ndarray]:
        if getattr(self, '_labels_cache', None) is None:
            n = len(self)
            gt = np.empty(n, dtype=np.int64)
            bias = np.empty(n, dtype=np.int64)
            clean = np.empty(n, dtype=np.int64)
            for i in range(n):
                info = super().get_data_info(i)
                gt[i] = info['gt_label']
                bias[i] = info.get('bias_label', UNKNOWN_BIAS)
                clean[i] = info.get('clean_label', gt[i])
            self._labels_cache = dict(gt=gt, bias=bias, clean=clean)
        return self._labels_cache

    def get_gt_labels(self) -> np.ndarray:
        """Target labels of all samples, shape (N,)."""
        return self._labels()['gt']

    def get_bias_labels(self) -> np.ndarray:
        """Bias labels of all samples (-1 where unknown), shape (N,).

        For evaluation and analysis only; training code of methods that are
        not bias-supervised must not call it.
        """
        return self._labels()['bias']

    def get_clean_labels(self) -> np.ndarray:
        """Target labels before label noise, shape (N,) (equal to
        :meth:`get_gt_labels` without noise). For analysis only: training
        code must not read it."""
        return self._labels()['clean']

    def get_noisy_mask(self) -> np.ndarray:
        """Boolean (N,) mask of the samples whose label was flipped. For
        analysis only."""
        return self.get_clean_labels() != self.get_gt_labels()

    def get_cat_ids(self, idx: int) -> List[int]:
        return [int(self.get_gt_labels()[idx])]

    @property
    def num_classes(self) -> int:
        return len(self.metainfo['classes'])

    @property
    def num_bias_classes(self) -> int:
        return len(self.metainfo['bias_classes'])

    def aligned_bias_of(self, gt_labels: np.ndarray) -> np.ndarray:
        """The bias value each class in ``gt_labels`` is aligned with."""
        table = self.metainfo.get('aligned_bias')
        if table is None:
            return np.asarray(gt_labels)
        return np.asarray(table)[np.asarray(gt_labels)]

    def get_aligned_mask(self) -> np.ndarray:
        """Boolean (N,) mask of bias-aligned samples, derived from the labels.

        Samples with an unknown bias label are neither aligned nor
        conflicting: use ``get_bias_labels() >= 0`` to select the known ones.
        """
        gt, bias = self.get_gt_labels(), self.get_bias_labels()
        return (bias >= 0) & (bias == self.aligned_bias_of(gt))

    def get_conflicting_mask(self) -> np.ndarray:
        """Boolean (N,) mask of bias-conflicting samples."""
        return (self.get_bias_labels() >= 0) & ~self.get_aligned_mask()

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info.setdefault('bias_label', UNKNOWN_BIAS)
        return info

    def get_subset(self, indices):
        sub = super().get_subset(indices)
        sub._labels_cache = None
        return sub

    def __deepcopy__(self, memo):
        # BaseDataset has no __deepcopy__; keep the default behaviour but
        # drop the cache, which is rebuilt on demand.
        cls = self.__class__
        other = cls.__new__(cls)
        memo[id(self)] = other
        for key, value in self.__dict__.items():
            setattr(other, key, copy.deepcopy(value, memo))
        other._labels_cache = None
        return other
