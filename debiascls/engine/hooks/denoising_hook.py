"""PGD's de-noising module (its §5, Algorithm 3), in front of any
algorithm."""
import copy
import hashlib
import io
import json
import logging
import os.path as osp
import random
from typing import Optional, Tuple

import numpy as np
import torch
import torch.distributed as torch_dist
import torch.nn.functional as F
from mmengine.dataset import default_collate
from mmengine.dist import get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader, RandomSampler

from debiascls.engine.hooks.train_set_views import train_set_with_test_pipeline
from debiascls.engine.optimizers import MultiModelOptimWrapperConstructor
from debiascls.registry import HOOKS, MODELS
from debiascls.utils.dist import collective_device
from debiascls.utils.fileio import atomic_write_bytes
from debiascls.utils.wrappers import sampler_of, unwrap

CACHE_VERSION = 1
SCORE_PIPELINES = ('train', 'test')


def compensated_split(ce: np.ndarray,
                      entropy: np.ndarray) -> Tuple[np.ndarray, float]:
    """PGD Eq. (2): ``L_i = CE_i / H_i`` with ``H_i`` the softmax entropy of
    the noise model's prediction, the threshold ``delta = sum CE / sum H``,
    and the clean set ``{i : L_i < delta}``.

    Returns the boolean clean mask and ``delta``.
    """
    delta = float(ce.sum() / entropy.sum())
    compensated = ce / np.maximum(entropy, 1e-12)
    return compensated < delta, delta


@HOOKS.register_module()
class DenoisingHook(Hook):
    """Before training, splits the training set into D_clean and D_noise
    with PGD's compensated loss and lets the algorithm train on D_clean only
    (PGD Algorithm 3: "de-biasing using D_clean"):

    1. a noise model ``f_n`` (a fresh copy of the algorithm's main
       classifier, with the main model's optimizer config) is trained with CE
       for ``num_iters`` iterations on the raw (biased and noisy) training
       set;
    2. for every training sample (through the training pipeline, or the
       raw images with ``score_pipeline='test'``), ``CE_i`` and the entropy
       ``H_i`` of ``f_n``'s softmax; ``L_i = CE_i / H_i`` and ``delta =
       sum CE / sum H`` (:func:`compensated_split`); D_clean = ``{L_i <
       delta}``;
    3. the training sampler is restricted to D_clean (``set_subset``) and the
       algorithm's ``train_pool`` is set (PGD scores D_clean only).

    Usable with any algorithm whose training sampler is a
    :class:`~debiascls.datasets.ResumableInfiniteSampler`. The result is
    cached in ``<work_dir>/<cache_file>`` (npz: the mask, CE, H, delta),
    keyed by the training labels and the settings, so resumes do not train
    ``f_n`` again; rank 0 trains it and broadcasts the mask. Bias labels and
    clean labels are never read (``tools/analysis_tools/bias_detection.py
    --denoising`` reports what was kept, with them).

    Args:
        num_iters: Training iterations of ``f_n``.
        batch_size: Its batch size (default: the training loader's).
        seed: Seed of its initialisation and data order (default: the
            run's).
        score_pipeline: The images ``CE_i`` and ``H_i`` are computed on:
            'train' (the default) the training pipeline's (augmented, with
            a seeded stream), 'test' the raw ones (the config's
            ``test_pipeline``). PGD's Algorithm 3 trains ``f_n`` "with
            augmentation" and does not say which images it scores.
        cache_file: File name under the work dir.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 num_iters: int = 1000,
                 batch_size: Optional[int] = None,
                 seed: Optional[int] = None,
                 score_pipeline: str = 'train',
                 cache_file: str = 'denoising.npz') -> None:
        if num_iters < 1:
            raise ValueError('DenoisingHook: num_iters must be positive.')
        if score_pipeline not in SCORE_PIPELINES:
            raise ValueError(f'DenoisingHook: score_pipeline must be one of '
                             f'{SCORE_PIPELINES}, got "{score_pipeline}".')
        self.score_pipeline = score_pipeline
        self.num_iters = num_iters
        self.batch_size = batch_size
        self.seed = seed
        self.cache_file = cache_file

    def before_train(self, runner) -> None:
        algorithm = unwrap(runner.model)
        sampler = sampler_of(runner.train_dataloader)
        if not hasattr(sampler, 'set_subset'):
            raise TypeError(
                'DenoisingHook needs train_dataloader.sampler = '
                "dict(type='ResumableInfiniteSampler'), got "
                f'{type(sampler).__name__}.')
        dataset = runner.train_dataloader.dataset
        labels = np.asarray(dataset.get_gt_labels())
        seed = self.seed if self.seed is not None else (runner.seed or 0)
        fingerprint = self._fingerprint(runner, algorithm, labels, seed)
        path = osp.join(runner.work_dir, self.cache_file)
        clean = None
        if is_main_process():
            clean = self._load(path, fingerprint)
            if clean is None:
                ce, entropy = self._train_and_score(runner, algorithm, seed)
                clean, delta = compensated_split(ce, entropy)
                self._save(path, fingerprint, clean, ce, entropy, delta)
            else:
                runner.logger.info(f'DenoisingHook: loaded D_clean from '
                                   f'{path}.')
        clean = self._broadcast(clean, len(labels))
        pool = np.flatnonzero(clean)
        sampler.set_subset(pool)
        algorithm.train_pool = pool
        runner.logger.info(
            f'DenoisingHook: D_clean keeps {len(pool)} of {len(labels)} '
            'training samples; training uses D_clean only.')

    # ------------------------------------------------------------------ #
    def _fingerprint(self, runner, algorithm, labels, seed) -> str:
        settings = dict(
            version=CACHE_VERSION,
            labels=hashlib.sha1(labels.astype(np.int64).tobytes()).hexdigest(),
            num_iters=self.num_iters,
            batch_size=self.batch_size,
            seed=seed,
            model=repr(algorithm.model_cfgs[algorithm.main_model]),
            optimizer=repr(runner.cfg.get('optim_wrapper')))
        if self.score_pipeline != 'train':  # earlier caches stay valid
            settings['score_pipeline'] = self.score_pipeline
        return hashlib.sha1(
            json.dumps(settings, sort_keys=True).encode()).hexdigest()

    def _load(self, path: str, fingerprint: str) -> Optional[np.ndarray]:
        if not osp.isfile(path):
            return None
        try:
            with np.load(path, allow_pickle=False) as cache:
                if str(cache['fingerprint']) == fingerprint:
                    return cache['clean'].astype(bool)
        except (OSError, KeyError, ValueError) as err:
            print_log(f'DenoisingHook: cannot read {path} ({err}).',
                      logger='current', level=logging.WARNING)
            return None
        print_log(f'DenoisingHook: {path} was computed with other labels or '
                  'settings; training the noise model again.',
                  logger='current', level=logging.WARNING)
        return None

    def _save(self, path, fingerprint, clean, ce, entropy, delta) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, fingerprint=np.array(fingerprint), clean=clean,
                 ce=ce, entropy=entropy, delta=np.array(delta))
        atomic_write_bytes(buffer.getvalue(), path)

    def _broadcast(self, clean, n: int) -> np.ndarray:
        if (get_world_size() == 1 or not torch_dist.is_available()
                or not torch_dist.is_initialized()):
            return clean
        mask = torch.zeros(n, dtype=torch.uint8, device=collective_device())
        if is_main_process():
            mask.copy_(torch.from_numpy(clean.astype(np.uint8)))
        torch_dist.broadcast(mask, src=0)
        return mask.cpu().numpy().astype(bool)

    def _train_and_score(self, runner, algorithm,
                         seed: int) -> Tuple[np.ndarray, np.ndarray]:
        dataset = runner.train_dataloader.dataset
        cfg = runner.cfg.train_dataloader
        batch_size = self.batch_size or cfg.get('batch_size')
        workers = cfg.get('num_workers', 0)
        generator = torch.Generator().manual_seed(seed)
        train_loader = DataLoader(
            dataset, batch_size=batch_size, num_workers=workers,
            sampler=RandomSampler(dataset, generator=generator),
            collate_fn=default_collate,
            drop_last=len(dataset) >= batch_size)
        if self.score_pipeline == 'test':
            scored = train_set_with_test_pipeline(runner, 'DenoisingHook')
            runner.logger.info('DenoisingHook: CE / H scored on the raw '
                               'training images (test_pipeline).')
        else:
            scored = dataset
        score_loader = DataLoader(scored, batch_size=batch_size,
                                  num_workers=workers,
                                  collate_fn=default_collate)
        # The noise model's initialisation and its augmentations (drawn from
        # np.random in the main process when there are no loader workers)
        # depend on the seed only, not on where a run was resumed.
        rng_states = (torch.get_rng_state(), np.random.get_state(),
                      random.getstate())
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        name = algorithm.main_model
        model = MODELS.build(copy.deepcopy(algorithm.model_cfgs[name])).to(
            algorithm.data_preprocessor.device)
        model.init_weights()
        model.train()
        optim = MultiModelOptimWrapperConstructor.from_optim_wrapper_cfg(
            runner.cfg.optim_wrapper).build_for(name, model)
        runner.logger.info(f'DenoisingHook: training the noise model for '
                           f'{self.num_iters} iterations (CE).')
        progress = ProgressBar(self.num_iters)
        step_bar = max(1, self.num_iters // 100)
        stream = iter(train_loader)
        for step in range(self.num_iters):
            try:
                batch = next(stream)
            except StopIteration:
                stream = iter(train_loader)
                batch = next(stream)
            data = algorithm.data_preprocessor(batch, True)
            with optim.optim_context(model):
                loss = F.cross_entropy(model(data['inputs']),
                                       data['data_samples']['gt_label'])
            optim.update_params(loss)
            if (step + 1) % step_bar == 0:
                progress.update(step_bar)
        model.eval()
        ce, entropy = [], []
        with torch.no_grad():
            for batch in score_loader:
                data = algorithm.data_preprocessor(batch, False)
                logits = model(data['inputs'])
                log_p = logits.log_softmax(dim=1)
                ce.append(F.nll_loss(log_p, data['data_samples']['gt_label'],
                                     reduction='none').cpu())
                entropy.append(-(log_p.exp() * log_p).sum(dim=1).cpu())
        torch.set_rng_state(rng_states[0])
        np.random.set_state(rng_states[1])
        random.setstate(rng_states[2])
        return (torch.cat(ce).double().numpy(),
                torch.cat(entropy).double().numpy())
