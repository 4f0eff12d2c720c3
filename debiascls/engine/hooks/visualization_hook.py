"""Visualisations written by ``tools/test.py --show-dir``."""
import copy
import io
import logging
import os.path as osp
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmengine.dataset import default_collate
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from debiascls.models.utils import grad_cam
from debiascls.registry import DATASETS, HOOKS
from debiascls.utils import ConfigError
from debiascls.utils.fileio import atomic_write_bytes
from debiascls.utils.wrappers import unwrap
from debiascls.visualization import (denormalize, draw_accuracy_matrix,
                                     draw_cam_overlay, draw_ie_pair,
                                     select_cell_samples, write_png)

#: Which class a Grad-CAM overlay explains.
CAM_TARGETS = ('pred', 'gt')


def _log(message: str, level=logging.INFO) -> None:
    print_log(f'BiasVisualizationHook: {message}', logger='current',
              level=level)


def _save_npz(arrays: Dict[str, np.ndarray], path: str) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(buffer.getvalue(), path)


def _name(names, value: int) -> str:
    """The name of a class or bias value from the metainfo (the number when
    there is none)."""
    if names is not None and 0 <= value < len(names):
        return str(names[value])
    return str(value)


@HOOKS.register_module()
class BiasVisualizationHook(Hook):
    """Draws, after each test (and, with ``during_val=True``, each
    validation), to PNG files under ``out_dir`` and to the runner's
    visualizer backends (local files, TensorBoard):

    - the per-(class, bias) accuracy heat-map of every model and split
      (``<split>_<model>_cell_acc.png``; the main model is ``main_model``);
    - Grad-CAM overlays of every model of the algorithm (the main one and,
      e.g., ``biased`` or ``g``) for up to ``samples_per_cell`` samples of
      every (class, bias) cell of the split ``cam_split``: the samples with
      the lowest dataset indices of each cell (deterministic, whatever the
      batch size or number of processes). Each image shows the un-normalised
      input and the overlay of the max-normalised Grad-CAM map of the model's
      feature map (``extract_feat``) through its head, computed by
      :func:`~debiascls.models.utils.grad_cam` (the implementation IE trains
      with) for the predicted class (``cam_target='pred'``) or the true one
      (``'gt'``), captioned with the ground truth, the prediction and the
      bias attribute. Files: ``gradcam/<model>/<split>_c<class>_b<bias>_
      idx<index>.png`` and the maps with their labels in
      ``gradcam/<model>/<split>_maps.npz``;
    - for IE (an algorithm with ``explain_pairs``), IE Figure 3 for the same
      samples: x, x^BN, E(z), E(z^BN) and IE(z) side by side
      (``ie_pairs/...png``, maps in ``ie_pairs/<split>_maps.npz``). x^BN is
      a training sample of x's class drawn from D^BN (from D_cand^BN where
      D^BN has no member of the class, said in the caption) with a fixed
      seed (``ie_seed`` plus the offset of the batch of samples), as
      :meth:`~debiascls.models.IE.explain_pairs` describes. In
      ``tools/test.py`` the training set is built from
      ``train_dataloader.dataset`` with the test split's pipeline (no
      augmentation) and handed to the algorithm with ``prepare_train``,
      which checks it against the checkpoint's per-sample tables.

    Only image models are drawn: a split whose inputs are not (B, C, H, W)
    images, or a model whose feature map is not (B, C, h, w) (video models
    give (B, C, t, h, w) maps), is skipped with a note in the log.

    Disabled by default in configs; ``tools/test.py --show-dir DIR`` enables
    it, as mmpretrain's ``VisualizationHook``.

    Args:
        enable: Whether to draw anything.
        out_dir: Where PNGs go; relative paths are under the work dir.
        during_val: Also draw after validations during training.
        samples_per_cell: Grad-CAM samples per (class, bias) cell (0: no
            overlays and no IE figure).
        cam_split: The evaluated split the samples come from.
        cam_target: 'pred' or 'gt', the class Grad-CAM explains.
        draw_ie: Draw IE Figure 3 when the algorithm is IE.
        ie_seed: Seed of the draw of x^BN.
        image_size: Shorter side (px) each image is enlarged to.
        alpha: Opacity of the heat overlay.
        batch_size: Samples per forward pass.
    """

    priority = 'NORMAL'

    def __init__(self,
                 enable: bool = False,
                 out_dir: Optional[str] = None,
                 during_val: bool = False,
                 samples_per_cell: int = 2,
                 cam_split: str = 'test',
                 cam_target: str = 'pred',
                 draw_ie: bool = True,
                 ie_seed: int = 0,
                 image_size: int = 160,
                 alpha: float = 0.5,
                 batch_size: int = 64) -> None:
        if cam_target not in CAM_TARGETS:
            raise ConfigError(
                'default_hooks.visualization.cam_target='
                f'"{cam_target}" is not one of {CAM_TARGETS}.')
        if samples_per_cell < 0 or batch_size < 1:
            raise ConfigError(
                'default_hooks.visualization: samples_per_cell must be >= 0 '
                f'(got {samples_per_cell}) and batch_size >= 1 (got '
                f'{batch_size}).')
        self.enable = enable
        self.out_dir = out_dir
        self.during_val = during_val
        self.samples_per_cell = samples_per_cell
        self.cam_split = cam_split
        self.cam_target = cam_target
        self.draw_ie = draw_ie
        self.ie_seed = ie_seed
        self.image_size = image_size
        self.alpha = alpha
        self.batch_size = batch_size

    # ------------------------------------------------------------------ #
    def after_test_epoch(self, runner, metrics=None) -> None:
        self._draw(runner, runner.test_loop, step=0, mode='test')

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self.during_val:
            self._draw(runner, runner.val_loop, step=runner.iter, mode='val')

    # ------------------------------------------------------------------ #
    def _out_dir(self, runner) -> str:
        out_dir = self.out_dir or 'vis'
        if not osp.isabs(out_dir):
            out_dir = osp.join(runner.work_dir, out_dir)
        return out_dir

    def _draw(self, runner, loop, step: int, mode: str) -> None:
        if not (self.enable and is_main_process()):
            return
        out_dir = self._out_dir(runner)
        self._draw_heatmaps(runner, loop, step, out_dir)
        if self.samples_per_cell > 0:
            algorithm = unwrap(runner.model)
            was_training = algorithm.training
            algorithm.eval()
            try:
                self._draw_samples(runner, loop, algorithm, step, mode,
                                   out_dir)
            finally:
                algorithm.train(was_training)

    def _draw_heatmaps(self, runner, loop, step: int, out_dir: str) -> None:
        tables: Dict[str, dict] = getattr(loop, 'last_tables', {})
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
                write_png(image, osp.join(out_dir, name + '.png'))
                runner.visualizer.add_image(name, image, step=step)

    # ------------------------------------------------------------------ #
    # Grad-CAM overlays and IE's figure
    # ------------------------------------------------------------------ #
    def _split(self, loop):
        splits = getattr(loop, 'splits', None)
        if splits is None:
            raise ConfigError(
                'BiasVisualizationHook draws Grad-CAM samples from the '
                'multi-split loops; set test_cfg.type="MultiSplitTestLoop" '
                '(and val_cfg.type="MultiSplitValLoop"), or '
                'default_hooks.visualization.samples_per_cell=0.')
        for split in splits:
            if split.name == self.cam_split:
                return split
        raise ConfigError(
            f'default_hooks.visualization.cam_split="{self.cam_split}" '
            'names no evaluated split; use one of '
            f'{[s.name for s in splits]}.')

    def _load(self, algorithm, dataset, indices: np.ndarray):
        """(raw uint8 inputs, preprocessed batch) of test samples."""
        batch = default_collate([dataset[int(i)] for i in indices])
        return batch['inputs'], algorithm.data_preprocessor(batch, False)

    def _draw_samples(self, runner, loop, algorithm, step: int, mode: str,
                      out_dir: str) -> None:
        split = self._split(loop)
        dataset = split.dataloader.dataset
        if not hasattr(dataset, 'get_bias_labels'):
            _log(f'the "{split.name}" split ({type(dataset).__name__}) has '
                 'no bias labels; no Grad-CAM overlays.', logging.WARNING)
            return
        meta = getattr(dataset, 'metainfo', {}) or {}
        classes, bias_names = meta.get('classes'), meta.get('bias_classes')
        chosen = select_cell_samples(dataset.get_gt_labels(),
                                     dataset.get_bias_labels(),
                                     self.samples_per_cell)
        if chosen.size == 0:
            _log(f'the "{split.name}" split has no sample of known bias; no '
                 'Grad-CAM overlays.', logging.WARNING)
            return
        first = dataset[int(chosen[0])]['inputs']
        if first.dim() != 3:
            _log(f'the "{split.name}" split gives inputs of shape '
                 f'{tuple(first.shape)} per sample, not (C, H, W) images (a '
                 'video data set?); Grad-CAM overlays and the IE figure are '
                 'drawn for image models only.')
            return
        # what cam_views explains: the models with a feature map and a head
        models = [
            name for name, model in algorithm.models.items()
            if hasattr(model, 'extract_feat') and hasattr(model, 'head')
        ]
        skipped = sorted(set(algorithm.models) - set(models))
        if skipped:
            _log(f'models {skipped} have no extract_feat/head split; no '
                 'Grad-CAM for them.')
        draw_ie = self.draw_ie and hasattr(algorithm, 'explain_pairs')
        if draw_ie and mode == 'test':
            self._prepare_ie(runner, algorithm)
        cams: Dict[str, Dict[str, List[np.ndarray]]] = {n: {} for n in models}
        ie_maps: Dict[str, List[np.ndarray]] = {}
        written = {name: 0 for name in models}
        no_pair = 0
        for start in range(0, len(chosen), self.batch_size):
            indices = chosen[start:start + self.batch_size]
            raw, data = self._load(algorithm, dataset, indices)
            inputs, samples = data['inputs'], data['data_samples']
            images = denormalize(raw)
            gt = samples['gt_label']
            bias = samples['bias_label'].tolist()
            idx = samples['sample_idx'].tolist()
            with torch.no_grad():
                views = algorithm.cam_views(inputs)
            for name in list(models):
                result = self._grad_cam(*views[name], gt)
                if result is None:
                    _log(f'model "{name}" gives a feature map that is not '
                         '(B, C, h, w) (a video model?); no Grad-CAM for it.')
                    models.remove(name)
                    continue
                pred, target, cam = result
                if cam.shape[1:] == (1, 1) and start == 0:
                    _log(f'model "{name}" has a 1x1 feature map (an MLP '
                         'backbone?): its Grad-CAM is uniform.')
                for key, value in dict(sample_idx=idx, gt_label=gt.tolist(),
                                       bias_label=bias, pred_label=pred,
                                       target_label=target,
                                       cam=list(cam)).items():
                    cams[name].setdefault(key, []).extend(value)
                for j in range(len(idx)):
                    lines = [
                        f'{name}: {split.name} idx {idx[j]}',
                        f'gt {_name(classes, int(gt[j]))}, pred '
                        f'{_name(classes, pred[j])}',
                        f'bias {_name(bias_names, bias[j])}',
                    ]
                    image = draw_cam_overlay(images[j], cam[j], lines,
                                             self.image_size, self.alpha)
                    stem = (f'{split.name}_c{int(gt[j])}_b{bias[j]}_'
                            f'idx{idx[j]}')
                    write_png(image,
                              osp.join(out_dir, 'gradcam', name,
                                       stem + '.png'))
                    runner.visualizer.add_image(
                        f'gradcam_{name}_{stem}', image, step=step)
                    written[name] += 1
            if draw_ie:
                no_pair += self._draw_ie(runner, algorithm, split.name,
                                         inputs, gt, bias, idx, images,
                                         classes, bias_names, step, out_dir,
                                         ie_maps, start)
        for name, arrays in cams.items():
            if arrays:
                _save_npz(
                    {k: np.asarray(v) for k, v in arrays.items()},
                    osp.join(out_dir, 'gradcam', name,
                             f'{split.name}_maps.npz'))
        if ie_maps:
            _save_npz({k: np.asarray(v) for k, v in ie_maps.items()},
                      osp.join(out_dir, 'ie_pairs',
                               f'{split.name}_maps.npz'))
        summary = ', '.join(f'{n}: {c}' for n, c in written.items())
        _log(f'Grad-CAM overlays of the "{split.name}" split ({summary}; '
             f'up to {self.samples_per_cell} per (class, bias) cell) in '
             f'{osp.join(out_dir, "gradcam")}.')
        if draw_ie:
            _log(f'IE figures for {len(ie_maps.get("sample_idx", []))} '
                 f'samples in {osp.join(out_dir, "ie_pairs")}'
                 + (f'; {no_pair} samples have no x^BN (no D_cand^BN member'
                    ' of their class).' if no_pair else '.'))

    def _grad_cam(self, feats: torch.Tensor, head, gt: torch.Tensor):
        """Prediction, explained class and max-normalised Grad-CAM map
        (B, h, w) of one classifier (its feature map and head, see
        ``cam_views``), or None for a non-image feature map."""
        feats = feats.detach()
        if feats.dim() != 4:
            return None
        with torch.no_grad():
            pred = head(feats).argmax(dim=1)
        target = pred if self.cam_target == 'pred' else gt
        cam = grad_cam(feats, head, target)
        return (pred.tolist(), target.tolist(),
                cam.detach().float().cpu().numpy())

    def _prepare_ie(self, runner, algorithm) -> None:
        """In tools/test.py: the training set (test split's pipeline, no
        augmentation) for x^BN, checked against the checkpoint's tables."""
        cfg = copy.deepcopy(runner.cfg.train_dataloader.dataset)
        pipeline = runner.cfg.test_dataloader.dataset.get('pipeline')
        if pipeline is not None:
            cfg['pipeline'] = copy.deepcopy(pipeline)
        dataset = DATASETS.build(cfg)
        state = algorithm.per_sample
        labels = torch.as_tensor(dataset.get_gt_labels())
        if state.num_samples and not torch.equal(labels,
                                                 state.gt_label.cpu()):
            raise ConfigError(
                'BiasVisualizationHook: the checkpoint\'s per-sample tables '
                f'are for {state.num_samples} training samples with other '
                'labels than the config\'s train_dataloader.dataset '
                f'({len(dataset)} samples); pass the config (and '
                '--cfg-options) the checkpoint was trained with.')
        algorithm.prepare_train(dataset)

    def _draw_ie(self, runner, algorithm, split: str, inputs, gt, bias, idx,
                 images, classes, bias_names, step: int, out_dir: str,
                 ie_maps: Dict[str, List[Any]], start: int) -> int:
        """IE Figure 3 for one batch; returns how many had no x^BN."""
        out = algorithm.explain_pairs(inputs, gt, seed=self.ie_seed + start)
        pair_idx = out['pair_idx'].tolist()
        paired = [j for j, p in enumerate(pair_idx) if p >= 0]
        if not paired:
            return len(idx)
        pre = algorithm.data_preprocessor
        bn_images = denormalize(out['x_bn'], getattr(pre, 'mean', None),
                                getattr(pre, 'std', None))
        ie_max = 2.0**float(getattr(algorithm, 'tau', 1.0))
        maps = {k: out[k].detach().float().cpu().numpy()
                for k in ('e_z', 'e_bn', 'ie', 'c', 'r')}
        for p, j in enumerate(paired):
            score = float(out['bn_score'][j])
            source = ('D_cand^BN (D^BN has none of the class)'
                      if bool(out['from_candidate'][j]) else 'D^BN')
            lines = [
                f'x: {split} idx {idx[j]}, gt {_name(classes, int(gt[j]))},'
                f' bias {_name(bias_names, bias[j])}',
                f'x^BN: train idx {pair_idx[j]} from {source}, '
                f's(x^BN) {score:.3g}',
            ]
            image = draw_ie_pair(images[j], bn_images[p], maps['e_z'][p],
                                 maps['e_bn'][p], maps['ie'][p], ie_max,
                                 lines, self.image_size, self.alpha)
            stem = f'{split}_c{int(gt[j])}_b{bias[j]}_idx{idx[j]}'
            write_png(image, osp.join(out_dir, 'ie_pairs', stem + '.png'))
            runner.visualizer.add_image(f'ie_pairs_{stem}', image, step=step)
            for key, value in dict(
                    sample_idx=idx[j], gt_label=int(gt[j]),
                    bias_label=bias[j], pair_idx=pair_idx[j],
                    from_candidate=bool(out['from_candidate'][j]),
                    bn_score=score, **{k: v[p]
                                       for k, v in maps.items()}).items():
                ie_maps.setdefault(key, []).append(value)
        return len(idx) - len(paired)
