"""Mimetics-10: the unbiased test set of ReBias's action-recognition
benchmark (Weinzaepfel & Rogez 2019; ReBias ``datasets/kinetics_tools/
kinetics.py``, ``datasets/mimetics/``). Mimes perform Kinetics actions
without the objects and scenes Kinetics models rely on, so accuracy here
measures what a model learnt beyond those static cues. Layout (ReBias's
``datasets/mimetics/download.py`` writes it)::

    {mimetics_root}/mimetics_v1.0.csv                      annotations
    {mimetics_root}/data/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4

``mimetics_v1.0.csv`` has the columns ``label, youtube_id, time_start,
time_end, split, is_cc`` (50 classes, all ``split = test``);
labels are spelled with spaces ("canoeing or kayaking"), and so are the
class folders. A folder spelled with underscores is accepted too, as are
pre-extracted frames in a folder named like the video without ``.mp4``
(``.../<youtube_id>_<start>_<end>/img_00001.jpg``, ...).

Classes: the official loader keeps ``sorted(set(labels))[4::5]`` of the CSV,
i.e. the same 10 classes in the same order as Kinetics-10
(:data:`~debiascls.datasets.kinetics.KINETICS10_CLASSES`), so the label
indices of both datasets agree. We filter the rows by those names instead of
by position, so a partial CSV cannot shift them. Rows are kept in file
order.

Bias labels are unknown (-1). Missing videos are left out with a warning
(``skip_missing=True``, as the official loader), listed in
``dataset.missing``. The CSV of the ReBias repository lists 136 clips
of the 10 classes (9 to 17 per class).

The root argument is ``mimetics_root`` (the config's top-level key of the
same name), not ``data_root``, which names the Kinetics folder in the
Kinetics-10 / Mimetics-10 config.
"""
import csv
import os
from typing import Callable, List, Optional, Sequence, Union

from debiascls.registry import DATASETS
from .base_dataset import BaseBiasDataset, DatasetError
from .kinetics import (KINETICS10_CLASSES, VideoDatasetMixin, label_key,
                       missing_class_error)

#: Columns ``mimetics_v1.0.csv`` must have.
MIMETICS_COLUMNS = ('label', 'youtube_id', 'time_start', 'time_end')


@DATASETS.register_module()
class Mimetics10(VideoDatasetMixin, BaseBiasDataset):
    """ReBias's Mimetics-10 test set (see the module docstring for the
    layout). Samples are videos (``video_path``) or frame folders
    (``frame_dir``), with ``video_id`` ``<youtube_id>_<start>_<end>``.

    The arguments are listed one by one (no ``**kwargs``), so that the
    config's top-level ``data_root`` (the Kinetics folder) is not filled in
    here.

    Args:
        mimetics_root: The Mimetics folder holding ``data/`` (and, by
            default, the CSV).
        split: ``'test'`` (Mimetics has no other split).
        ann_file: The CSV, relative to ``mimetics_root`` or absolute.
        classes: Class names (label = position); ReBias's 10 by default, the
            label indices of :class:`~debiascls.datasets.Kinetics10`.
        media: ``'auto'`` (a video file, else a frame folder), ``'video'``
            or ``'frames'``.
        skip_missing: Leave missing videos out (with a warning) instead of
            raising.
        metainfo, pipeline, test_mode, lazy_init, indices, serialize_data,
        max_refetch: As in :class:`BaseBiasDataset`.

    Attributes:
        split_counts: ``annotated`` (rows of the classes), ``missing``,
            ``kept``.
        missing: ``video_id`` of the missing videos.
    """

    METAINFO = dict(classes=KINETICS10_CLASSES,
                    bias_attribute='static cues (scene, objects)',
                    bias_classes=None)
    ROOT_ARG = 'mimetics_root'
    SPLITS = ('test', )

    def __init__(self,
                 mimetics_root: str = 'data/mimetics',
                 split: str = 'test',
                 ann_file: str = 'mimetics_v1.0.csv',
                 classes: Sequence[str] = KINETICS10_CLASSES,
                 media: str = 'auto',
                 skip_missing: bool = True,
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: Optional[bool] = None,
                 lazy_init: bool = False,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 max_refetch: int = 0) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'{type(self).__name__}: split="{split}" is not '
                             f'one of {self.SPLITS} (Mimetics is a test set '
                             'only).')
        self.ann_file_name = ann_file
        self.split_counts = None
        meta = self._init_video(classes, media, skip_missing, metainfo)
        super().__init__(
            data_root=mimetics_root, split=split, metainfo=meta,
            pipeline=pipeline, test_mode=test_mode, lazy_init=lazy_init,
            indices=indices, serialize_data=serialize_data,
            max_refetch=max_refetch)

    @property
    def mimetics_root(self) -> str:
        return self.data_root

    def generate_hint(self) -> str:
        root = self.data_root
        return ('Download the Mimetics videos listed in mimetics_v1.0.csv '
                '(ReBias datasets/mimetics/download.py writes them to '
                f'"{os.path.join(root, "data")}/<label>/<youtube_id>_'
                '<start:06d>_<end:06d>.mp4") and put the CSV at '
                f'"{os.path.join(root, self.ann_file_name)}" (see '
                'docs/data_preparation.md, Kinetics-10 / Mimetics-10).')

    def load_data_list(self) -> List[dict]:
        hint = self.generate_hint()
        self._check_root(self.data_root, hint)
        path = self._annotation_path(self.data_root, self.ann_file_name, hint)
        label_of = {label_key(c): i for i, c in enumerate(self.classes)}
        labels_in_file, entries, expected = set(), [], []
        with open(path, newline='', encoding='utf-8') as f:
            reader = csv.DictReader(f)
            absent = [c for c in MIMETICS_COLUMNS
                      if c not in (reader.fieldnames or ())]
            if absent:
                raise DatasetError(
                    f'{self._where()}: "{path}" lacks the column(s) '
                    f'{absent} (header: {reader.fieldnames}); the Mimetics '
                    f'CSV has {", ".join(MIMETICS_COLUMNS)}, split, is_cc.')
            for row in reader:
                line = reader.line_num
                label = row['label']
                if label is None or row['time_end'] is None:
                    raise DatasetError(f'{self._where()}: line {line} of '
                                       f'"{path}" has too few fields.')
                labels_in_file.add(label)
                c = label_of.get(label_key(label))
                if c is None:
                    continue
                try:
                    start, end = int(row['time_start']), int(row['time_end'])
                except ValueError as e:
                    raise DatasetError(
                        f'{self._where()}: line {line} of "{path}": '
                        f'time_start / time_end must be whole seconds, got '
                        f'{row["time_start"]!r}, {row["time_end"]!r}.') from e
                name = f'{row["youtube_id"]}_{start:06d}_{end:06d}'
                folders = [os.path.join(self.data_root, 'data', label)]
                if label_key(label) != label:
                    folders.append(
                        os.path.join(self.data_root, 'data', label_key(label)))
                entries.append((name, c, dict(folders=folders,
                                              video_names=[name + '.mp4'],
                                              frame_names=[name])))
                expected.append(os.path.join(folders[0], name + '.mp4'))
        for cls in self.classes:
            if label_key(cls) not in {label_key(x) for x in labels_in_file}:
                raise missing_class_error(type(self).__name__, cls, path,
                                          labels_in_file)
        data_list = self._resolve(entries, expected, hint)
        self.split_counts = dict(annotated=len(entries),
                                 missing=len(self.missing),
                                 kept=len(data_list))
        return data_list

    def _empty_error(self) -> DatasetError:
        return DatasetError(
            f'{self._where()}: no clip of the classes {list(self.classes)} in '
            f'"{self.ann_file_name}". ' + self.generate_hint())
