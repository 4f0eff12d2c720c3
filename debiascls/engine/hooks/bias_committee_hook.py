"""BiasEnsemble's committee of early-stopped biased models (Lee et al.,
AAAI 2023), run before main training."""
import copy
import hashlib
import io
import json
import logging
import os.path as osp
from typing import Optional, Tuple

import numpy as np
import torch
import torch.distributed as torch_dist
from mmengine.dataset import default_collate
from mmengine.dist import get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader, RandomSampler

from debiascls.datasets.in_memory import InMemoryDataLoader, InMemoryStore
from debiascls.engine.optimizers import MultiModelOptimWrapperConstructor
from debiascls.models.losses import generalized_ce
from debiascls.registry import HOOKS, MODELS
from debiascls.utils.fileio import atomic_write_bytes
from debiascls.utils.wrappers import unwrap

CACHE_VERSION = 1


def _store_of(loader) -> Optional[InMemoryStore]:
    """The decoded split behind an in-memory loader, else None."""
    return loader.store if isinstance(loader, InMemoryDataLoader) else None


def committee_sets(probs: np.ndarray, preds: np.ndarray, labels: np.ndarray,
                   threshold: float, agreement: int,
                   candidate_agreement: int) -> Tuple[np.ndarray, np.ndarray]:
    """D^A and D_cand^BN from the committee's per-sample outputs.

    - D^A (BiasEnsemble): ``#{m : p_y^(m)(x) > threshold} >= agreement``,
      the samples the committee confidently gets right;
    - D_cand^BN (IE §3.2, JTT-style): ``#{m : argmax f_m(x) != y} >=
      candidate_agreement``, the samples the majority gets wrong. It is not
      the complement of D^A.

    Args:
        probs: (M, N) probability of the true class under each member.
        preds: (M, N) predicted class of each member.
        labels: (N,) training labels.
    """
    amplified = (probs > threshold).sum(axis=0) >= agreement
    candidate = (preds != labels[None]).sum(axis=0) >= candidate_agreement
    return amplified, candidate


@HOOKS.register_module()
class BiasCommitteeHook(Hook):
    """Trains BiasEnsemble's committee before the main training and fills
    the algorithm's per-sample tables ``amplified`` (D^A) and
    ``bn_candidate`` (D_cand^BN).

    As the official code (BiasEnsemble ``train.py``/``learner.py``,
    ``pretrain_b_ensemble_best``): ``num_models`` fresh copies of the
    algorithm's biased model, each with a fresh optimizer of the biased
    model's config, are trained with GCE (q = 0.7) for ``num_iters``
    iterations on shuffled training batches (the data stream continues from
    one member to the next); each member is evaluated on the validation split
    after the updates of steps 0, ``valid_interval``, ... and its best copy
    by validation accuracy (strict improvement) is kept; every training
    sample is then scored by every member in eval mode. Bias labels are not
    used.

    The committee's outputs (per-sample probability of the true class and
    prediction of every member) and the two index lists are cached in
    ``<work_dir>/<cache_file>`` (written atomically), keyed by a fingerprint
    of the training labels and the committee settings, so a resume or a
    re-run in the same work dir does not train it again; a resumed run also
    finds the sets in the checkpoint. With several ranks, rank 0 trains the
    committee and broadcasts its outputs.

    Args:
        num_models: Committee size M (5).
        num_iters: Training iterations of each member (1,000).
        valid_interval: Validation interval of each member (500).
        threshold: Confidence for D^A (0.99).
        agreement: Members that must be confident for D^A (3).
        candidate_agreement: Members that must be wrong for D_cand^BN
            (default: a majority, ``num_models // 2 + 1``).
        q: GCE exponent.
        batch_size: Committee batch size (default: the training loader's).
        num_workers: Data-loader workers (default: the training loader's).
        seed: Seed of the committee's initialisation and data order
            (default: the run's seed).
        cache_file: File name under the work dir.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 num_models: int = 5,
                 num_iters: int = 1000,
                 valid_interval: int = 500,
                 threshold: float = 0.99,
                 agreement: int = 3,
                 candidate_agreement: Optional[int] = None,
                 q: float = 0.7,
                 batch_size: Optional[int] = None,
                 num_workers: Optional[int] = None,
                 seed: Optional[int] = None,
                 cache_file: str = 'bias_committee.npz') -> None:
        if candidate_agreement is None:
            candidate_agreement = num_models // 2 + 1
        for key, value in (('agreement', agreement),
                           ('candidate_agreement', candidate_agreement)):
            if not 1 <= value <= num_models:
                raise ValueError(f'BiasCommitteeHook: {key}={value} must lie '
                                 f'in [1, num_models={num_models}].')
        if num_iters < 1 or valid_interval < 1:
            raise ValueError('BiasCommitteeHook: num_iters and '
                             'valid_interval must be positive.')
        self.num_models = num_models
        self.num_iters = num_iters
        self.valid_interval = valid_interval
        self.threshold = threshold
        self.agreement = agreement
        self.candidate_agreement = candidate_agreement
        self.q = q
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.cache_file = cache_file

    # ------------------------------------------------------------------ #
    def before_train(self, runner) -> None:
        algorithm = unwrap(runner.model)
        algorithm.attach_hook('BiasCommitteeHook')
        state = getattr(algorithm, 'per_sample', None)
        if state is None or 'amplified' not in state.table_names:
            raise TypeError(
                'BiasCommitteeHook needs an algorithm with bias_amplified=True'
                f' (tables "amplified", "bn_candidate"); '
                f'{type(algorithm).__name__} has none.')
        if bool(algorithm.bias_sets_ready):
            runner.logger.info('BiasCommitteeHook: D^A and D_cand^BN '
                               'restored from the checkpoint.')
            return
        labels = state.gt_label.cpu().numpy()
        seed = self.seed if self.seed is not None else (runner.seed or 0)
        fingerprint = self._fingerprint(runner, algorithm, labels, seed)
        path = osp.join(runner.work_dir, self.cache_file)
        outputs = None
        if is_main_process():
            outputs = self._load_cache(path, fingerprint)
            if outputs is None:
                outputs = self._train_committee(runner, algorithm, seed)
                self._save_cache(path, fingerprint, outputs, labels)
            else:
                runner.logger.info(f'BiasCommitteeHook: loaded the '
                                   f'committee\'s outputs from {path}.')
        probs, preds = self._broadcast(outputs, len(labels),
                                       state.gt_label.device)
        amplified, candidate = committee_sets(probs, preds, labels,
                                              self.threshold, self.agreement,
                                              self.candidate_agreement)
        state.fill('amplified', torch.from_numpy(amplified))
        state.fill('bn_candidate', torch.from_numpy(candidate))
        algorithm.bias_sets_ready.fill_(True)
        runner.logger.info(
            f'BiasCommitteeHook: |D^A| = {int(amplified.sum())}, '
            f'|D_cand^BN| = {int(candidate.sum())} of {len(labels)} '
            'training samples.')

    # ------------------------------------------------------------------ #
    def _fingerprint(self, runner, algorithm, labels: np.ndarray,
                     seed: int) -> str:
        settings = dict(
            version=CACHE_VERSION,
            labels=hashlib.sha1(labels.astype(np.int64).tobytes()).hexdigest(),
            num_models=self.num_models,
            num_iters=self.num_iters,
            valid_interval=self.valid_interval,
            q=self.q,
            batch_size=self.batch_size,
            seed=seed,
            model=repr(algorithm.model_cfgs['biased']),
            optimizer=repr(runner.cfg.get('optim_wrapper')))
        text = json.dumps(settings, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()

    def _load_cache(self, path: str, fingerprint: str
                    ) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        if not osp.isfile(path):
            return None
        try:
            with np.load(path, allow_pickle=False) as cache:
                if str(cache['fingerprint']) != fingerprint:
                    print_log(
                        f'BiasCommitteeHook: {path} was computed with other '
                        'labels or settings; training the committee again.',
                        logger='current',
                        level=logging.WARNING)
                    return None
                return cache['probs'], cache['preds']
        except (OSError, KeyError, ValueError) as err:
            print_log(
                f'BiasCommitteeHook: cannot read {path} ({err}); training '
                'the committee again.',
                logger='current',
                level=logging.WARNING)
            return None

    def _save_cache(self, path: str, fingerprint: str,
                    outputs: Tuple[np.ndarray, np.ndarray],
                    labels: np.ndarray) -> None:
        probs, preds = outputs
        amplified, candidate = committee_sets(probs, preds, labels,
                                              self.threshold, self.agreement,
                                              self.candidate_agreement)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            fingerprint=np.array(fingerprint),
            probs=probs,
            preds=preds,
            amplified_idx=np.flatnonzero(amplified),
            candidate_idx=np.flatnonzero(candidate))
        atomic_write_bytes(buffer.getvalue(), path)

    def _broadcast(self, outputs, num_samples: int, device
                   ) -> Tuple[np.ndarray, np.ndarray]:
        if (get_world_size() == 1 or not torch_dist.is_available()
                or not torch_dist.is_initialized()):
            return outputs
        shape = (self.num_models, num_samples)
        probs = torch.zeros(shape, dtype=torch.float32, device=device)
        preds = torch.zeros(shape, dtype=torch.int64, device=device)
        if is_main_process():
            probs.copy_(torch.from_numpy(outputs[0]))
            preds.copy_(torch.from_numpy(outputs[1]))
        torch_dist.broadcast(probs, src=0)
        torch_dist.broadcast(preds, src=0)
        return probs.cpu().numpy(), preds.cpu().numpy()

    # ------------------------------------------------------------------ #
    def _loader(self, runner, dataset, shuffle: bool,
                generator: Optional[torch.Generator] = None,
                store: Optional[InMemoryStore] = None):
        train_cfg = runner.cfg.train_dataloader
        batch_size = self.batch_size or train_cfg.get('batch_size')
        # BE drops the last incomplete batch, unless there is no other
        drop_last = shuffle and len(dataset) >= batch_size
        if store is not None:  # the split is in memory: index it
            sampler = (RandomSampler(dataset, generator=generator)
                       if shuffle else range(len(dataset)))
            return InMemoryDataLoader(dataset, store, sampler, batch_size,
                                      drop_last)
        workers = (self.num_workers if self.num_workers is not None else
                   train_cfg.get('num_workers', 0))
        return DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=RandomSampler(dataset, generator=generator)
            if shuffle else None,
            num_workers=workers,
            # workers (and their decoded-image caches) live across epochs:
            # a committee member sees the training set ~40 times
            persistent_workers=workers > 0,
            collate_fn=default_collate,
            drop_last=drop_last)

    @torch.no_grad()
    def _predict(self, algorithm, model, loader
                 ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        model.eval()
        probs, preds, labels = [], [], []
        for batch in loader:
            data = algorithm.data_preprocessor(batch, False)
            y = data['data_samples']['gt_label']
            p = model(data['inputs']).softmax(dim=1)
            probs.append(p.gather(1, y[:, None]).squeeze(1).cpu())
            preds.append(p.argmax(dim=1).cpu())
            labels.append(y.cpu())
        model.train()
        return (torch.cat(probs).numpy(), torch.cat(preds).numpy(),
                torch.cat(labels).numpy())

    def _train_committee(self, runner, algorithm,
                         seed: int) -> Tuple[np.ndarray, np.ndarray]:
        dataset = runner.train_dataloader.dataset
        store = _store_of(runner.train_dataloader)
        generator = torch.Generator()
        generator.manual_seed(seed)
        train_loader = self._loader(runner, dataset, True, generator, store)
        score_loader = self._loader(runner, dataset, False, store=store)
        valid_loader = None
        if runner.val_loop is not None:
            valid = runner.val_loop.dataloader
            valid_loader = self._loader(runner, valid.dataset, False,
                                        store=_store_of(valid))
        constructor = MultiModelOptimWrapperConstructor.from_optim_wrapper_cfg(
            runner.cfg.optim_wrapper)
        device = algorithm.data_preprocessor.device
        rng_state = torch.get_rng_state()
        stream = iter(train_loader)
        total = self.num_models * self.num_iters
        progress = ProgressBar(total)
        bar_step = max(1, total // 100)  # a redraw per percent, not per step
        runner.logger.info(
            f'BiasCommitteeHook: training {self.num_models} biased models '
            f'for {self.num_iters} iterations each (GCE, q = {self.q}).')
        all_probs, all_preds = [], []
        for member in range(self.num_models):
            torch.manual_seed(seed * 1000 + member)
            model = MODELS.build(copy.deepcopy(
                algorithm.model_cfgs['biased'])).to(device)
            model.init_weights()
            model.train()
            optim = constructor.build_for('biased', model)
            best_acc, best_state = -1.0, None
            for step in range(self.num_iters):
                try:
                    batch = next(stream)
                except StopIteration:
                    stream = iter(train_loader)
                    batch = next(stream)
                data = algorithm.data_preprocessor(batch, True)
                with optim.optim_context(model):
                    loss = generalized_ce(
                        model(data['inputs']),
                        data['data_samples']['gt_label'], self.q).mean()
                optim.update_params(loss)
                done = member * self.num_iters + step + 1
                if done % bar_step == 0 or done == total:
                    progress.update(bar_step if done % bar_step == 0 else
                                    done % bar_step)
                if valid_loader is not None and (step %
                                                 self.valid_interval == 0):
                    _, pred, y = self._predict(algorithm, model, valid_loader)
                    acc = float((pred == y).mean())
                    if acc > best_acc:
                        best_acc = acc
                        best_state = copy.deepcopy(model.state_dict())
            if best_state is not None:
                model.load_state_dict(best_state)
            probs, preds, _ = self._predict(algorithm, model, score_loader)
            all_probs.append(probs)
            all_preds.append(preds)
            runner.logger.info(
                f'BiasCommitteeHook: member {member + 1}/{self.num_models}: '
                f'best valid accuracy {100 * best_acc:.2f} %, train accuracy '
                f'{100 * float((preds == dataset.get_gt_labels()).mean()):.2f}'
                ' %.')
        torch.set_rng_state(rng_state)
        return (np.stack(all_probs).astype(np.float32),
                np.stack(all_preds).astype(np.int64))
