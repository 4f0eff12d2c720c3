"""9-class ImageNet (ReBias, Bahng et al. ICML 2020, Sec. 4.3): nine
super-classes over 42 ImageNet classes, with texture clusters as the proxy
bias labels of the val images.

Layout: the standard ImageNet folder (torchvision ``ImageFolder`` /
ReBias), val sorted into wnid folders::

    {data_root}/train/<wnid>/*.JPEG    train and valid (a held-out part)
    {data_root}/val/<wnid>/*.JPEG      test (50 images per wnid: 2,100)
    {cluster_file}                     texture clusters of the val images,
        by default {data_root}/9class_imagenet_val.csv

Only the 42 wnid folders below are read; the other 958 may be there or not.

Classes (labels 0..8) and wnids, as ReBias's ``datasets/imagenet.py`` picks
them (index ranges of the sorted ImageNet wnids, with only five of the dog,
bird and monkey classes; the sorted indices are in the comments). The same 42
wnids make its explicit ImageNet-A map (``CLASS_TO_INDEX``).

Splits:

- ``train``: the train images of the 42 wnids minus the valid ones.
- ``valid``: a held-out part of train, biased like it (ReBias selects on its
  test split; we do not). From every wnid ``round(valid_fraction * n)``
  images (halves up) are drawn with a generator seeded by ``(data_seed,
  wnid)``, so the split is stratified by class, reproducible, and a wnid's
  draw does not depend on the other folders.
- ``test``: the val images (ReBias's "biased" and "unbiased" test sets are
  both this folder). ``bias_label`` is the first texture clustering; all
  clusterings, in sample order, are in ``metainfo['texture_clusters']`` (a
  list of lists of length N) for
  :class:`~debiascls.evaluation.TextureUnbiasedAccuracy`.

Train and valid bias labels are unknown (-1): the clusters exist for val
only.

Cluster file (ReBias ``clusters/9class_imagenet_val.csv``, or our own from
``tools/data/make_texture_clusters.py``): a CSV with the header
``path,category,cluster1,cluster2,cluster3``; ``path`` is relative to the
val folder (``n01641577/ILSVRC2012_val_00001652.JPEG``), ``category`` the
class name (``frog``) and ``cluster<i>`` the 0-based cluster id of the i-th
clustering (k = 9 in ReBias). Rows are matched to images by path; every val
image needs exactly one row and every row an image. ReBias's loader reads
the same ids from ``cluster_label_{1,2,3}.pth`` by dataset position; the CSV
keyed by path does not depend on the listing order.
"""
import csv
import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from debiascls.registry import DATASETS
from .base_dataset import UNKNOWN_BIAS, BaseBiasDataset, DatasetError
from .bias_folder import IMG_EXTENSIONS
from .transforms.loading import quick_file_check

#: The nine super-classes, in label order.
IMAGENET9_CLASSES = ('dog', 'cat', 'frog', 'turtle', 'bird', 'monkey', 'fish',
                     'crab', 'insect')
#: The ImageNet wnids of each super-class (label -> wnids).
IMAGENET9_WNIDS: Dict[int, Tuple[str, ...]] = {
    # dog: sorted indices 151, 207, 234, 235, 254
    0: ('n02085620', 'n02099601', 'n02106550', 'n02106662', 'n02110958'),
    # cat: 281-285
    1: ('n02123045', 'n02123159', 'n02123394', 'n02123597', 'n02124075'),
    # frog: 30-32
    2: ('n01641577', 'n01644373', 'n01644900'),
    # turtle: 33-37
    3: ('n01664065', 'n01665541', 'n01667114', 'n01667778', 'n01669191'),
    # bird: 89, 90, 94, 96, 97
    4: ('n01819313', 'n01820546', 'n01833805', 'n01843383', 'n01847000'),
    # monkey: 372-375, 378
    5: ('n02486410', 'n02487347', 'n02488291', 'n02488702', 'n02492035'),
    # fish: 393-397
    6: ('n02607072', 'n02640242', 'n02641379', 'n02643566', 'n02655020'),
    # crab: 118-121
    7: ('n01978287', 'n01978455', 'n01980166', 'n01981276'),
    # insect: 306-310
    8: ('n02174001', 'n02177972', 'n02190166', 'n02206856', 'n02219486'),
}
#: wnid -> super-class label (42 entries).
WNID_TO_CLASS: Dict[str, int] = {
    wnid: label
    for label, wnids in IMAGENET9_WNIDS.items() for wnid in wnids
}
#: The 42 wnids, sorted (the listing order of every split).
IMAGENET9_ALL_WNIDS: Tuple[str, ...] = tuple(sorted(WNID_TO_CLASS))
#: Number of texture clusters of ReBias (k of its k-means).
DEFAULT_NUM_TEXTURE_CLUSTERS = 9
#: Default name of the cluster file under ``data_root`` (ReBias's name).
CLUSTER_FILE_NAME = '9class_imagenet_val.csv'
#: Columns of the cluster file before the ``cluster<i>`` ones.
CLUSTER_CSV_HEADER = ('path', 'category')
#: Tag of the valid-split draw (keeps it apart from other uses of the seed).
_VALID_KEY = 0x56414C49
#: Where ReBias's cluster file is published (error messages).
REBIAS_CLUSTERS = 'clusters/9class_imagenet_val.csv of clovaai/rebias'


def texture_cluster_names(k: int) -> Tuple[str, ...]:
    """``('texture0', ..., 'texture{k-1}')``."""
    return tuple(f'texture{i}' for i in range(k))


def list_wnid_images(root: str, wnids: Sequence[str], where: str,
                     hint: str) -> List[Tuple[str, str]]:
    """``(path, wnid)`` of the images in ``root/<wnid>/`` for each wnid,
    sorted by wnid then file name (one level; no sub-folders).

    Raises:
        DatasetError: a wnid folder is missing or holds no image; the
            message names it and ends with ``hint``.
    """
    out: List[Tuple[str, str]] = []
    for wnid in sorted(wnids):
        folder = os.path.join(root, wnid)
        if not os.path.isdir(folder):
            raise DatasetError(f'{where}: folder "{folder}" does not exist. '
                               f'{hint}')
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if e.is_file()
                           and e.name.lower().endswith(IMG_EXTENSIONS))
        if not names:
            raise DatasetError(
                f'{where}: folder "{folder}" holds no image file '
                f'({", ".join(IMG_EXTENSIONS)}). The copy is incomplete. '
                f'{hint}')
        out.extend((os.path.join(folder, n), wnid) for n in names)
    return out


def verify_image_files(paths: Sequence[str], where: str, hint: str) -> None:
    """Raise :class:`DatasetError` at the first missing or empty file."""
    for path in paths:
        problem = quick_file_check(path)
        if problem is not None:
            raise DatasetError(f'{where}: image file "{path}" is {problem}. '
                               f'Restore it. {hint}')


def valid_mask(wnids: Sequence[str], fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the samples (listed as :func:`list_wnid_images` does)
    that form the valid split: ``round(fraction * n_w)`` per wnid ``w``
    (halves up), drawn with ``default_rng([seed, tag, w])``."""
    wnids = np.asarray(wnids)
    mask = np.zeros(len(wnids), dtype=bool)
    for wnid in sorted(set(wnids.tolist())):
        idx = np.flatnonzero(wnids == wnid)
        n = int(np.floor(fraction * len(idx) + 0.5 + 1e-9))
        rng = np.random.default_rng([seed, _VALID_KEY, int(wnid[1:])])
        mask[idx[rng.choice(len(idx), size=n, replace=False)]] = True
    return mask


def read_cluster_csv(path: str, where: str = 'texture clusters'
                     ) -> Tuple[Dict[str, Tuple[int, ...]],
                                Dict[str, Optional[str]]]:
    """Read a cluster file: ``({rel_path: (c1, c2, ...)}, {rel_path:
    category or None})``. ``rel_path`` uses ``/``.

    The columns ``cluster1``, ``cluster2``, ... are read in order (at least
    ``cluster1``); ``category`` is optional.

    Raises:
        DatasetError: missing file, missing columns, a duplicate path or a
            value that is not a non-negative integer (with the line).
    """
    if not os.path.isfile(path):
        raise DatasetError(
            f'{where}: cluster file "{path}" does not exist. Put ReBias\'s '
            f'{REBIAS_CLUSTERS} there, or generate one with python '
            'tools/data/make_texture_clusters.py --data-root DATA_ROOT --out '
            f'"{path}" (or set cluster_file to the file you have; see '
            'docs/data_preparation.md, 9-class ImageNet).')
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or ())
        columns = []
        while f'cluster{len(columns) + 1}' in fields:
            columns.append(f'cluster{len(columns) + 1}')
        if 'path' not in fields or not columns:
            raise DatasetError(
                f'{where}: "{path}" has the header {fields}; a cluster file '
                'needs the columns path and cluster1 (ReBias: '
                'path,category,cluster1,cluster2,cluster3). Restore the file '
                'or regenerate it with tools/data/make_texture_clusters.py.')
        clusters: Dict[str, Tuple[int, ...]] = {}
        categories: Dict[str, Optional[str]] = {}
        for line, row in enumerate(reader, start=2):
            rel = (row.get('path') or '').strip().replace('\\', '/')
            if not rel:
                raise DatasetError(f'{where}: line {line} of "{path}" has no '
                                   'path. Fix or regenerate the file.')
            if rel in clusters:
                raise DatasetError(
                    f'{where}: line {line} of "{path}" repeats the path '
                    f'"{rel}". Fix or regenerate the file.')
            values = []
            for col in columns:
                raw = (row.get(col) or '').strip()
                if not raw.isdigit():
                    raise DatasetError(
                        f'{where}: line {line} of "{path}" has {col}={raw!r}'
                        ', which is not a non-negative integer cluster id. '
                        'Fix or regenerate the file.')
                values.append(int(raw))
            clusters[rel] = tuple(values)
            category = row.get('category')
            categories[rel] = category.strip() if category else None
    if not clusters:
        raise DatasetError(f'{where}: "{path}" has no rows. Restore or '
                           'regenerate the file.')
    return clusters, categories


def match_clusters(rel_paths: Sequence[str], labels: Sequence[int],
                   path: str, where: str) -> np.ndarray:
    """The ``(num_clusterings, N)`` cluster ids of the images
    ``rel_paths`` (``<wnid>/<file>``, in sample order) from the cluster file
    ``path``.

    Raises:
        DatasetError: an image without a row, a row without an image, or a
            row whose category is not the image's class.
    """
    clusters, categories = read_cluster_csv(path, where)
    missing = [p for p in rel_paths if p not in clusters]
    extra = sorted(set(clusters) - set(rel_paths))
    fix = ('The cluster file must list exactly the val images of the 42 '
           'wnids (ReBias\'s lists the 2,100 images of the ILSVRC2012 val '
           'set, sorted into wnid folders). Use the file made for this copy '
           'of ImageNet, or regenerate it with '
           'tools/data/make_texture_clusters.py.')
    if missing:
        raise DatasetError(
            f'{where}: {len(missing)} of the {len(rel_paths)} val images have '
            f'no row in "{path}" (e.g. "{missing[0]}"). {fix}')
    if extra:
        raise DatasetError(
            f'{where}: {len(extra)} rows of "{path}" name no val image (e.g. '
            f'"{extra[0]}"). {fix}')
    for rel, label in zip(rel_paths, labels):
        category = categories[rel]
        if category is not None and category != IMAGENET9_CLASSES[label]:
            raise DatasetError(
                f'{where}: "{path}" gives "{rel}" the category "{category}", '
                f'but its wnid belongs to "{IMAGENET9_CLASSES[label]}". {fix}')
    return np.asarray([clusters[p] for p in rel_paths],
                      dtype=np.int64).T.copy()


def imagenet_hint(root: str) -> str:
    """How to lay out ImageNet for :class:`ImageNet9` (error messages)."""
    return (f'Unpack ILSVRC2012 so that "{os.path.join(root, "train")}/<wnid>/'
            f'*.JPEG" and "{os.path.join(root, "val")}/<wnid>/*.JPEG" exist, '
            'with val sorted into wnid folders (e.g. with the valprep.sh '
            'script linked from the PyTorch ImageNet example, or '
            'torchvision\'s ImageNet(split="val")), or set data_root to '
            'that folder (see docs/data_preparation.md, 9-class ImageNet).')


@DATASETS.register_module()
class ImageNet9(BaseBiasDataset):
    """9-class ImageNet of ReBias with texture-cluster bias labels on the
    test split (see the module docstring for the layout, the classes and
    the splits).

    Args:
        data_root: The ImageNet folder holding ``train/`` and ``val/``.
        split: ``'train'``, ``'valid'`` or ``'test'``.
        valid_fraction: Share of the train images of every wnid held out as
            the valid split (and removed from train), in [0, 1).
        data_seed: Seed of the valid draw.
        cluster_file: The texture clusters of the val images (test split
            only); default ``{data_root}/9class_imagenet_val.csv``.
        verify_files: Check that every image file exists and is not empty
            when the dataset is built.
        metainfo: Overrides :attr:`METAINFO`.
        **kwargs: Passed to :class:`BaseBiasDataset`.

    ``metainfo`` of the test split also holds ``texture_clusters`` (the
    cluster ids of every clustering, in sample order), ``bias_classes`` =
    ``texture0..texture{k-1}`` (k: the largest id in the file + 1, at
    least 9) and ``aligned_bias``: the most populated cluster of each class
    in the first clustering (ties to the lower id), so that
    ``aligned_acc`` / ``conflicting_acc`` of
    :class:`~debiascls.evaluation.DebiasAccuracy` mean "on the class's
    dominant texture" / "on other textures". ReBias has no such notion; its
    "unbiased" number is
    :class:`~debiascls.evaluation.TextureUnbiasedAccuracy`.
    """

    METAINFO = dict(
        classes=IMAGENET9_CLASSES,
        bias_attribute='texture',
        bias_classes=texture_cluster_names(DEFAULT_NUM_TEXTURE_CLUSTERS))
    SPLITS = ('train', 'valid', 'test')

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 valid_fraction: float = 0.05,
                 data_seed: int = 0,
                 cluster_file: Optional[str] = None,
                 verify_files: bool = True,
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 **kwargs) -> None:
        name = type(self).__name__
        if split not in self.SPLITS:
            raise ValueError(f'{name}: split="{split}" is not one of '
                             f'{self.SPLITS}.')
        if (isinstance(valid_fraction, bool)
                or not isinstance(valid_fraction, (int, float))
                or not 0 <= valid_fraction < 1):
            raise ValueError(f'{name}: valid_fraction={valid_fraction!r} must '
                             'be a fraction in [0, 1) (e.g. 0.05 holds out 5 '
                             '% of the train images of every wnid).')
        if isinstance(data_seed, bool) or not isinstance(
                data_seed, (int, np.integer)) or data_seed < 0:
            raise ValueError(f'{name}: data_seed={data_seed!r} must be a '
                             'non-negative integer.')
        self.valid_fraction = float(valid_fraction)
        self.data_seed = int(data_seed)
        self.verify_files = verify_files
        self._cluster_file = cluster_file
        super().__init__(
            data_root=data_root,
            split=split,
            metainfo=metainfo,
            pipeline=pipeline,
            **kwargs)

    @property
    def cluster_file(self) -> str:
        """The cluster file read by the test split."""
        if self._cluster_file is not None:
            return self._cluster_file
        return os.path.join(self.data_root, CLUSTER_FILE_NAME)

    def _where(self) -> str:
        return f'{type(self).__name__} ({self.split} split)'

    # ------------------------------------------------------------------ #
    def load_data_list(self) -> List[dict]:
        root = self.data_root
        hint = imagenet_hint(root)
        if not os.path.isdir(root):
            raise DatasetError(f'{self._where()}: data_root "{root}" does not '
                               f'exist. {hint}')
        part = 'val' if self.split == 'test' else 'train'
        folder = os.path.join(root, part)
        if not os.path.isdir(folder):
            raise DatasetError(f'{self._where()}: folder "{folder}" does not '
                               f'exist. {hint}')
        if part == 'val':
            with os.scandir(folder) as entries:
                flat = any(e.is_file() and e.name.lower().endswith(
                    IMG_EXTENSIONS) for e in entries)
            if flat and not os.path.isdir(
                    os.path.join(folder, IMAGENET9_ALL_WNIDS[0])):
                raise DatasetError(
                    f'{self._where()}: "{folder}" holds the val images '
                    'directly; they must be sorted into wnid folders '
                    f'("{folder}/<wnid>/*.JPEG"). {hint}')
        listed = list_wnid_images(folder, IMAGENET9_ALL_WNIDS, self._where(),
                                  hint)
        if part == 'train':
            held_out = valid_mask([w for _, w in listed], self.valid_fraction,
                                  self.data_seed)
            keep = held_out if self.split == 'valid' else ~held_out
            listed = [item for item, k in zip(listed, keep) if k]
        if self.verify_files:
            verify_image_files([p for p, _ in listed], self._where(), hint)
        data_list = [
            dict(img_path=path, gt_label=WNID_TO_CLASS[wnid],
                 bias_label=UNKNOWN_BIAS) for path, wnid in listed
        ]
        if self.split == 'test':
            rel = [f'{wnid}/{os.path.basename(path)}'
                   for path, wnid in listed]
            clusters = match_clusters(
                rel, [d['gt_label'] for d in data_list], self.cluster_file,
                self._where())
            for i, info in enumerate(data_list):
                info['texture_clusters'] = tuple(
                    int(c) for c in clusters[:, i])
                info['bias_label'] = int(clusters[0, i])
            k = max(int(clusters.max()) + 1, DEFAULT_NUM_TEXTURE_CLUSTERS)
            self._metainfo['bias_classes'] = texture_cluster_names(k)
        return data_list

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        super().full_init()
        self._refresh_texture_metainfo()

    def get_subset(self, indices):
        sub = super().get_subset(indices)
        sub._refresh_texture_metainfo()
        return sub

    def _refresh_texture_metainfo(self) -> None:
        """``texture_clusters`` and ``aligned_bias`` of the samples held
        (after ``indices`` or :meth:`get_subset`)."""
        if self.split != 'test':
            return
        rows = [
            self.get_data_info(i)['texture_clusters'] for i in range(len(self))
        ]
        clusters = np.asarray(rows, dtype=np.int64).reshape(len(rows), -1).T
        self._metainfo['texture_clusters'] = clusters.tolist()
        gt = self.get_gt_labels()
        k = len(self._metainfo['bias_classes'])
        counts = np.zeros((len(IMAGENET9_CLASSES), k), dtype=np.int64)
        np.add.at(counts, (gt, clusters[0]), 1)
        self._metainfo['aligned_bias'] = tuple(
            int(c) for c in counts.argmax(axis=1))
