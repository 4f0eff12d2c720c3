"""Kinetics-10: the 10-class subset of Kinetics-400 that ReBias trains its
action recognisers on (ReBias ``datasets/kinetics_tools/kinetics.py``,
``main_action.py``, paper Appendix H), in ReBias's on-disk layout::

    {data_root}/kinetics-400.json                       annotations (ann_file)
    {data_root}/train/<label_with_underscores>/<key>.mp4    train and valid
    {data_root}/val/<label_with_underscores>/<key>.mp4      test

The annotation file is the ActivityNet-style Kinetics JSON: ``{"labels":
[...], "database": {key: {"subset": "training" | "validation" | "testing",
"annotations": {"label": ..., "segment": [...]}}}}``, whose keys are
``<youtube_id>_<start:06d>_<end:06d>``. As the official loader, a video is
the first file that exists among ``<key>.mp4``, ``<id>.mp4``, ``<key>.mkv``,
``<id>.mkv``, ``<key>.mp4.mkv``, ``<id>.mp4.mkv``, ``<key>.mp4.webm``,
``<id>.mp4.webm`` in its class folder (``<id>`` = the key without its
``_<start>_<end>`` suffix). We also accept pre-extracted frames in a folder
of the same name, ``<key>/img_00001.jpg, img_00002.jpg, ...`` (or
``<id>/...``; mmaction2's ``rawframes`` naming, first frame 1; see
:class:`~debiascls.datasets.transforms.OpenVideo` to change it).

Classes: every 5th class of Mimetics (``mimetics_v1.0_clsannot.txt`` lines
5, 10, ..., 50), in that order (labels 0..9). The official loader compares
the JSON labels with the underscored names of that file; we compare labels
with spaces replaced by underscores, so JSON files with either spelling
work.

Splits (``split``):

- ``train``: Kinetics ``training`` videos of the 10 classes, minus valid;
- ``valid``: a seeded, class-stratified ``valid_fraction`` (10 %) of the
  ``training`` videos (per class ``round(valid_fraction * n_c)``, drawn with
  ``data_seed``), for model selection. The official code has no such split:
  its "val" loader reads the Kinetics validation videos, which are also its
  biased test set, and it keeps the best epoch by Mimetics accuracy;
- ``test``: Kinetics ``validation`` videos (ReBias's "biased" number).

The valid draw is made on the annotation file, before missing videos are
looked up, so a video is in the same split on every copy of the data.

Bias labels are unknown (-1): the bias is the static scene / object context,
which Kinetics does not annotate; Mimetics-10 (:class:`Mimetics10`) is the
unbiased test set.

Missing videos (YouTube removals: every Kinetics copy lacks some) are left
out with a warning, as the official loader does (``skip_missing=True``); the
names are in ``dataset.missing``. ``skip_missing=False`` raises instead.
"""
import difflib
import json
import os
import re
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np
from mmengine.logging import print_log

from debiascls.registry import DATASETS
from .base_dataset import UNKNOWN_BIAS, BaseBiasDataset, DatasetError

#: The 50 Mimetics classes in the order of ``mimetics_v1.0_clsannot.txt``
#: (underscores there; spaces here, as Kinetics spells them). The order is
#: also the sorted order of the labels of ``mimetics_v1.0.csv``.
MIMETICS50_CLASSES = (
    'archery', 'bowling', 'brushing hair', 'brushing teeth',
    'canoeing or kayaking', 'catching or throwing baseball',
    'catching or throwing frisbee', 'clean and jerk', 'cleaning windows',
    'climbing a rope', 'climbing ladder', 'deadlifting',
    'dribbling basketball', 'drinking', 'driving car', 'dunking basketball',
    'eating cake', 'eating ice cream', 'flying kite', 'golf driving',
    'hitting baseball', 'hurdling', 'juggling balls', 'juggling soccer ball',
    'opening bottle', 'playing accordion', 'playing basketball',
    'playing bass guitar', 'playing guitar', 'playing piano',
    'playing saxophone', 'playing tennis', 'playing trumpet',
    'playing violin', 'playing volleyball', 'punching person (boxing)',
    'reading book', 'reading newspaper', 'shooting basketball',
    'shooting goal (soccer)', 'skiing (not slalom or crosscountry)',
    'skiing slalom', 'skipping rope', 'smoking', 'surfing water',
    'sweeping floor', 'sword fighting', 'tying tie', 'walking the dog',
    'writing')
#: ReBias's 10 classes (``kinetics10`` / ``mimetics10``): every 5th.
KINETICS10_CLASSES = MIMETICS50_CLASSES[4::5]

#: How the media of a sample may be stored.
MEDIA = ('auto', 'video', 'frames')
#: Kinetics split -> (annotation subset, folder under data_root).
KINETICS_SPLITS = {
    'train': ('training', 'train'),
    'valid': ('training', 'train'),
    'test': ('validation', 'val'),
}
#: Tag of the valid-split seed sequence.
_VALID_KEY = 0x4B494E31
_TIME_SUFFIX = re.compile(r'^(.+)_(\d{6})_(\d{6})$')


def label_key(label: str) -> str:
    """The spelling labels are compared in: spaces -> underscores."""
    return str(label).strip().replace(' ', '_')


def check_classes(classes: Sequence[str], owner: str) -> Tuple[str, ...]:
    classes = tuple(str(c) for c in classes)
    keys = [label_key(c) for c in classes]
    if not classes or len(set(keys)) != len(keys):
        raise ValueError(f'{owner}: classes={classes!r} must be a non-empty '
                         'sequence of distinct class names.')
    return classes


def missing_class_error(owner: str, cls: str, source: str,
                        labels: Iterable[str]) -> DatasetError:
    labels = sorted({label_key(x) for x in labels})
    close = difflib.get_close_matches(label_key(cls), labels, n=3)
    hint = (f' Close labels: {", ".join(close)}.' if close else
            f' The file has {len(labels)} labels.')
    return DatasetError(
        f'{owner}: class "{cls}" is not a label of "{source}".{hint} Fix '
        'the class name in `classes` (the defaults are ReBias\'s 10 classes, '
        'KINETICS10_CLASSES) or use the right annotation file.')


class FolderIndex:
    """Names in folders, listed once each (cheap existence checks for
    thousands of videos, also on network file systems)."""

    def __init__(self) -> None:
        self._files: Dict[str, Set[str]] = {}
        self._dirs: Dict[str, Set[str]] = {}

    def _list(self, folder: str) -> None:
        files, dirs = set(), set()
        try:
            with os.scandir(folder) as entries:
                for e in entries:
                    (dirs if e.is_dir() else files).add(e.name)
        except (FileNotFoundError, NotADirectoryError):
            pass
        self._files[folder], self._dirs[folder] = files, dirs

    def has_file(self, folder: str, name: str) -> bool:
        if folder not in self._files:
            self._list(folder)
        return name in self._files[folder]

    def has_dir(self, folder: str, name: str) -> bool:
        if folder not in self._dirs:
            self._list(folder)
        return name in self._dirs[folder]


def find_media(index: FolderIndex, folders: Sequence[str],
               video_names: Sequence[str], frame_names: Sequence[str],
               media: str) -> Optional[dict]:
    """``{'video_path': ...}`` or ``{'frame_dir': ...}`` of the first
    existing candidate (video files before frame folders with
    ``media='auto'``), or None."""
    if media in ('auto', 'video'):
        for folder in folders:
            for name in video_names:
                if index.has_file(folder, name):
                    return dict(video_path=os.path.join(folder, name))
    if media in ('auto', 'frames'):
        for folder in folders:
            for name in frame_names:
                if index.has_dir(folder, name):
                    return dict(frame_dir=os.path.join(folder, name))
    return None


class VideoDatasetMixin:
    """What Kinetics10 and Mimetics10 share: arguments, metainfo, media
    lookup, missing-video handling."""

    #: Set by subclasses: the root argument's name (for messages).
    ROOT_ARG = 'data_root'

    def _init_video(self, classes: Sequence[str], media: str,
                    skip_missing: bool, metainfo: Optional[dict]) -> dict:
        name = type(self).__name__
        if media not in MEDIA:
            raise ValueError(f'{name}: media={media!r} must be one of '
                             f'{MEDIA}.')
        self.classes = check_classes(classes, name)
        self.media = media
        self.skip_missing = bool(skip_missing)
        self.missing: List[str] = []
        given = (metainfo or {}).get('classes')
        if given is not None and tuple(given) != self.classes:
            raise ValueError(f'{name}: set the class names with `classes`, '
                             'which also maps the labels, not with '
                             'metainfo.classes.')
        meta = dict(classes=self.classes,
                    bias_attribute='static cues (scene, objects)',
                    bias_classes=None)
        meta.update(metainfo or {})
        return meta

    def _describe(self, idx: int) -> str:
        info = BaseBiasDataset.get_data_info(self, idx)
        return (info.get('video_path') or info.get('frame_dir')
                or f'sample {idx}')

    def _where(self) -> str:
        return f'{type(self).__name__} ({self.split} split)'

    def _check_root(self, root: str, hint: str) -> None:
        if not root or not os.path.isdir(root):
            raise DatasetError(f'{self._where()}: {self.ROOT_ARG} "{root}" '
                               f'does not exist. {hint}')

    def _annotation_path(self, root: str, ann_file: str, hint: str) -> str:
        path = ann_file if os.path.isabs(ann_file) else os.path.join(
            root, ann_file)
        if not os.path.isfile(path):
            raise DatasetError(f'{self._where()}: annotation file "{path}" '
                               f'does not exist. {hint}')
        return path

    def _resolve(self, entries: List[Tuple[str, int, dict]],
                 expected: List[str], hint: str) -> List[dict]:
        """Data infos of ``entries`` ``(sample id, label, candidates)``
        whose media exist; handles the missing ones. ``expected[i]`` is the
        path named in messages for entry ``i``."""
        index = FolderIndex()
        data_list, missing = [], []
        for (sample_id, label, cand), path in zip(entries, expected):
            found = find_media(index, media=self.media, **cand)
            if found is None:
                if not self.skip_missing:
                    raise DatasetError(
                        f'{self._where()}: the video of "{sample_id}" is '
                        f'missing: expected "{path}" ({self._what()}). '
                        'Restore it, or set skip_missing=True to leave '
                        f'missing videos out. {hint}')
                missing.append(sample_id)
                continue
            data_list.append(dict(found, gt_label=label,
                                  bias_label=UNKNOWN_BIAS,
                                  video_id=sample_id))
        self.missing = missing
        if entries and not data_list:
            raise DatasetError(
                f'{self._where()}: none of the {len(entries)} videos of the '
                f'split was found, e.g. "{expected[0]}" ({self._what()}). '
                f'Check {self.ROOT_ARG} and the layout. {hint}')
        if missing:
            shown = ', '.join(missing[:3])
            print_log(
                f'{self._where()}: {len(missing)} of {len(entries)} videos '
                f'are missing and left out (e.g. {shown}); they are listed '
                'in dataset.missing.', logger='current', level=30)
        return data_list

    def _what(self) -> str:
        return {
            'auto': 'or another accepted video name, or a frame folder',
            'video': 'or another accepted video name; media="video"',
            'frames': 'a frame folder; media="frames"'
        }[self.media]


@DATASETS.register_module()
class Kinetics10(VideoDatasetMixin, BaseBiasDataset):
    """ReBias's Kinetics-10 (see the module docstring for the layout, the
    classes and the splits). Samples are videos (``video_path``) or frame
    folders (``frame_dir``), with ``video_id`` (the annotation key); use a
    video pipeline (``OpenVideo``, ``SampleFrames``, ``DecodeFrames``, ...,
    ``PackVideoInputs``).

    Args:
        data_root: The Kinetics folder holding ``train/`` and ``val/`` (and,
            by default, the annotation file).
        split: ``'train'``, ``'valid'`` or ``'test'``.
        ann_file: The annotation JSON, relative to ``data_root`` or absolute.
        classes: Class names (label = position); ReBias's 10 by default.
            ``MIMETICS50_CLASSES`` gives ReBias's ``kinetics50``.
        valid_fraction: Share of each class's training videos held out as
            the valid split, in [0, 1).
        data_seed: Seed of the valid draw.
        media: ``'auto'`` (a video file, else a frame folder), ``'video'``
            or ``'frames'``.
        skip_missing: Leave missing videos out (with a warning) instead of
            raising.
        **kwargs: Passed to :class:`BaseBiasDataset`.

    Attributes:
        split_counts: ``annotated`` (training and validation videos of the
            classes in the file), ``train`` and ``valid`` (train / valid
            splits) or ``test`` (test split), before missing videos are left
            out, ``missing`` (of this split) and ``kept``.
        missing: Keys of this split's missing videos.
    """

    METAINFO = dict(classes=KINETICS10_CLASSES,
                    bias_attribute='static cues (scene, objects)',
                    bias_classes=None)
    SPLITS = tuple(KINETICS_SPLITS)

    def __init__(self,
                 data_root: str = 'data/kinetics400',
                 split: str = 'train',
                 ann_file: str = 'kinetics-400.json',
                 classes: Sequence[str] = KINETICS10_CLASSES,
                 valid_fraction: float = 0.1,
                 data_seed: int = 0,
                 media: str = 'auto',
                 skip_missing: bool = True,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        name = type(self).__name__
        if split not in self.SPLITS:
            raise ValueError(f'{name}: split="{split}" is not one of '
                             f'{self.SPLITS}.')
        if isinstance(valid_fraction, bool) or not isinstance(
                valid_fraction, (int, float)) or not 0 <= valid_fraction < 1:
            raise ValueError(f'{name}: valid_fraction={valid_fraction!r} '
                             'must be in [0, 1).')
        if isinstance(data_seed, bool) or not isinstance(
                data_seed, (int, np.integer)) or data_seed < 0:
            raise ValueError(f'{name}: data_seed={data_seed!r} must be a '
                             'non-negative integer.')
        self.ann_file_name = ann_file
        self.valid_fraction = float(valid_fraction)
        self.data_seed = int(data_seed)
        self.split_counts: Optional[Dict[str, int]] = None
        meta = self._init_video(classes, media, skip_missing, metainfo)
        super().__init__(
            data_root=data_root, split=split, metainfo=meta, **kwargs)

    def generate_hint(self) -> str:
        root = self.data_root
        return (f'Download Kinetics-400 (e.g. the CVDF tarballs or the '
                'ActivityNet crawler) and arrange it as ReBias reads it: '
                f'"{os.path.join(root, "train")}/<label_with_underscores>/'
                '<youtube_id>_<start:06d>_<end:06d>.mp4", the same under '
                f'"{os.path.join(root, "val")}/", and the annotation JSON '
                f'(ann_file="{self.ann_file_name}", "database" -> key -> '
                'subset / annotations.label) (see docs/data_preparation.md, '
                'Kinetics-10 / Mimetics-10).')

    def _read_annotations(self, path: str) -> Dict[str, dict]:
        try:
            with open(path, encoding='utf-8') as f:
                data = json.load(f)
        except (ValueError, UnicodeDecodeError) as e:
            raise DatasetError(f'{self._where()}: "{path}" is not valid JSON '
                               f'({e}). Re-download the annotation file.'
                               ) from e
        database = data.get('database') if isinstance(data, dict) else None
        if not isinstance(database, dict):
            raise DatasetError(
                f'{self._where()}: "{path}" has no "database" object (the '
                'ActivityNet-style Kinetics JSON: {"database": {key: '
                '{"subset": ..., "annotations": {"label": ...}}}}). Use that '
                'file as ann_file.')
        return database

    def load_data_list(self) -> List[dict]:
        hint = self.generate_hint()
        self._check_root(self.data_root, hint)
        path = self._annotation_path(self.data_root, self.ann_file_name, hint)
        database = self._read_annotations(path)
        subset, folder = KINETICS_SPLITS[self.split]
        label_of = {label_key(c): i for i, c in enumerate(self.classes)}
        labels_in_file = set()
        by_class: Dict[int, List[str]] = {i: [] for i in range(len(label_of))}
        annotated = 0
        for key, entry in database.items():
            if not isinstance(entry, dict):
                raise DatasetError(f'{self._where()}: entry "{key}" of '
                                   f'"{path}" is not an object.')
            label = (entry.get('annotations') or {}).get('label')
            if label is None:  # the testing subset has no labels
                continue
            labels_in_file.add(label)
            c = label_of.get(label_key(label))
            if c is None or entry.get('subset') not in ('training',
                                                        'validation'):
                continue
            annotated += 1
            if entry.get('subset') == subset:
                by_class[c].append(str(key))
        for cls in self.classes:
            if label_key(cls) not in {label_key(x) for x in labels_in_file}:
                raise missing_class_error(type(self).__name__, cls, path,
                                          labels_in_file)
        keys = self._split_keys(by_class)
        entries, expected = [], []
        for c, key in keys:
            class_dir = os.path.join(self.data_root, folder,
                                     label_key(self.classes[c]))
            match = _TIME_SUFFIX.match(key)
            stems = [key, match.group(1)] if match else [key]
            videos = [f'{s}{ext}' for ext in ('.mp4', '.mkv', '.mp4.mkv',
                                               '.mp4.webm') for s in stems]
            entries.append((key, c, dict(folders=[class_dir],
                                         video_names=videos,
                                         frame_names=stems)))
            expected.append(os.path.join(class_dir, key + '.mp4'))
        data_list = self._resolve(entries, expected, hint)
        self.split_counts.update(annotated=annotated,
                                 missing=len(self.missing),
                                 kept=len(data_list))
        return data_list

    def _split_keys(self, by_class: Dict[int, List[str]]
                    ) -> List[Tuple[int, str]]:
        """``(label, key)`` of this split, by label then key."""
        rng = np.random.default_rng(
            np.random.SeedSequence([self.data_seed, _VALID_KEY]))
        chosen, n_train, n_valid, n_test = [], 0, 0, 0
        for c in sorted(by_class):
            keys = sorted(by_class[c])
            if self.split == 'test':
                chosen.extend((c, k) for k in keys)
                n_test += len(keys)
                continue
            n = len(keys)
            n_hold = int(np.floor(self.valid_fraction * n + 0.5))
            held = set(rng.permutation(n)[:n_hold].tolist())
            n_valid += n_hold
            n_train += n - n_hold
            want_valid = self.split == 'valid'
            chosen.extend((c, k) for i, k in enumerate(keys)
                          if (i in held) == want_valid)
        self.split_counts = dict(test=n_test) if self.split == 'test' \
            else dict(train=n_train, valid=n_valid)
        if self.split == 'valid' and not chosen:
            raise DatasetError(
                f'{self._where()}: valid_fraction={self.valid_fraction} '
                'holds out no training video. Use a larger valid_fraction '
                '(e.g. 0.1).')
        return chosen

    def _empty_error(self) -> DatasetError:
        return DatasetError(
            f'{self._where()}: no video of the classes {list(self.classes)} '
            f'in the "{KINETICS_SPLITS[self.split][0]}" subset of the '
            'annotation file. ' + self.generate_hint())
