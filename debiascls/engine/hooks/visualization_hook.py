"""Visualisations written by ``tools/test.py --show-dir``."""
import os
import os.path as osp
from typing import Dict, Optional

import cv2

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from debiascls.registry import HOOKS
from debiascls.visualization import draw_accuracy_matrix


@HOOKS.register_module()
class BiasVisualizationHook(Hook):
    """Draws, after each test (and, with ``during_val=True``, each
    validation), the per-(class, bias) accuracy heat-map of every model and
    split, to PNG files under ``out_dir`` and to the runner's visualizer
    backends (local files, TensorBoard).

    Disabled by default in configs; ``tools/test.py --show-dir DIR`` enables
    it, as mmpretrain's ``VisualizationHook``.

    Args:
        enable: Whether to draw anything.
        out_dir: Where PNGs go; relative paths are under the work dir.
        during_val: Also draw after validations during training.
    """

    priority = 'NORMAL'

    def __init__(self,
                 enable: bool = False,
                 out_dir: Optional[str] = None,
                 during_val: bool = False) -> None:
        self.enable = enable
        self.out_dir = out_dir
        self.during_val = during_val

    def _draw(self, runner, loop, step: int) -> None:
        tables: Dict[str, dict] = getattr(loop, 'last_tables', {})
        if not (self.enable and is_main_process() and tables):
            return
        out_dir = self.out_dir or 'vis'
        if not osp.isabs(out_dir):
            out_dir = osp.join(runner.work_dir, out_dir)
        os.makedirs(out_dir, exist_ok=True)
        for split, split_tables in tables.items():
            meta = split_tables.get('_dataset_meta', {})
            for key, matrix in split_tables.items():
                if not key.endswith('cell_acc'):
                    continue
                model = key[:-len('cell_acc')].rstrip('/') or 'main model'
                counts = split_tables.get(key[:-len('acc')] + 'count')
                image = draw_accuracy_matrix(
                    matrix, counts, meta.get('classes'),
                    meta.get('bias_classes'),
                    f'{split}: {model}, accuracy per (class, bias) cell')
                name = f"{split}_{model.replace(' ', '_')}_cell_acc"
                cv2.imwrite(
                    osp.join(out_dir, name + '.png'), image[..., ::-1])
                runner.visualizer.add_image(name, image, step=step)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._draw(runner, runner.test_loop, step=0)

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self.during_val:
            self._draw(runner, runner.val_loop, step=runner.iter)
