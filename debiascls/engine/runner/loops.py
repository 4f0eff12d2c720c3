"""Training and evaluation loops of debiascls.

- :class:`DebiasIterBasedTrainLoop`: mmengine's iteration-based loop with an
  exact resume (O(1) data skip with :class:`ResumableInfiniteSampler`, and
  RNG states that are a pure function of (seed, rank, iteration)).
- :class:`MultiSplitValLoop` / :class:`MultiSplitTestLoop`: every evaluation
  covers several splits (valid *and* test, plus e.g. Biased MNIST's biased
  test set), each with its own copy of the evaluator; metric keys are
  prefixed with the split name (``valid/conflicting_acc``) and every split is
  appended to ``results.jsonl``. mmengine evaluates one split only
  (open-mmlab/mmengine#1406).
"""
import copy
import logging
import os.path as osp
import random
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.dist import broadcast_object_list, get_rank, is_main_process
from mmengine.evaluator import Evaluator
from mmengine.fileio import dump
from mmengine.logging import print_log
from mmengine.runner.amp import autocast
from mmengine.runner.base_loop import BaseLoop
from mmengine.runner.loops import (IterBasedTrainLoop, TestLoop, ValLoop,
                                   _InfiniteDataloaderIterator)
from mmengine.runner.utils import calc_dynamic_intervals
from torch.utils.data import DataLoader

from debiascls.datasets.in_memory import InMemoryDataLoader
from debiascls.engine.results import (RESULTS_FILE, append_result,
                                      complete_validations, read_results,
                                      run_record, split_scalars)
from debiascls.models.algorithms.base import BaseDebiasAlgorithm
from debiascls.registry import LOOPS
from debiascls.utils.threads import (apply_num_threads, auto_threads,
                                     cores_per_process)
from debiascls.utils.wrappers import sampler_of, unwrap


def seed_torch(seed: int) -> None:
    """``torch.manual_seed`` for the generators in use: the CPU one, and
    CUDA's once CUDA is initialised. ``torch.manual_seed`` also queues a
    lazy seeding of CUDA, XPU and MTIA when they are not initialised, which
    formats a stack trace each time (0.3-0.9 ms, as much as an MLP step on
    a CPU, once per iteration here); a device initialised later is seeded
    at the next iteration."""
    torch.default_generator.manual_seed(seed)
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.manual_seed_all(seed)


def apply_thread_plan(runner, dataloader) -> None:
    """Set torch's intra-op threads from ``env_cfg.num_threads`` (``'auto'``:
    the process's cores minus the workers of ``dataloader``, see
    :mod:`debiascls.utils.threads`)."""
    cfg = getattr(runner, 'cfg', None) or {}
    setting = (cfg.get('env_cfg') or {}).get('num_threads')
    workers = 0 if isinstance(dataloader, InMemoryDataLoader) else int(
        getattr(dataloader, 'num_workers', 0) or 0)
    if setting == 'auto':
        setting = auto_threads(workers)
    applied = apply_num_threads(setting)
    if applied is not None:
        print_log(
            f'torch threads: {applied} ({cores_per_process()} cores for this '
            f'process, {workers} loader workers; env_cfg.num_threads, '
            'OMP_NUM_THREADS overrides it)',
            logger='current')


@LOOPS.register_module()
class DebiasIterBasedTrainLoop(IterBasedTrainLoop):
    """Iteration-based training whose resumed runs equal uninterrupted ones.

    Two differences from mmengine's ``IterBasedTrainLoop``:

    1. Before each iteration, Python's, numpy's and torch's generators are
       re-seeded from ``(seed, rank, iteration)``. Everything random inside
       an iteration (dropout, main-process augmentation, a method's own
       sampling) is then reproduced after a resume without checkpointing
       generator states, whatever ran in between (validation draws from the
       generators too).
    2. On resume, a sampler with ``set_start`` (e.g.
       :class:`~debiascls.datasets.ResumableInfiniteSampler`) is moved to the
       right position instead of replaying, i.e. loading, every batch already
       seen. Other samplers fall back to mmengine's replay.

    The budget may be given in epochs of the training loader (``max_epochs``,
    ``val_interval_epochs``; one epoch is ``len(train_dataloader)``
    iterations), so that a paper's "120 epochs" stays 120 epochs whatever
    the size of the local copy of the data set; an explicit ``max_iters`` /
    ``val_interval`` (e.g. from ``--cfg-options``) takes precedence.

    Args:
        max_iters: Number of iterations.
        max_epochs: Number of epochs, used when ``max_iters`` is not given.
        val_interval: Iterations between evaluations.
        val_interval_epochs: Epochs between evaluations, used when
            ``val_interval`` is not given (default: 1000 iterations).
        reseed_every_iter: Disable to keep mmengine's behaviour (one seed at
            start-up); resumed runs are then not reproducible.
        Other arguments as in mmengine's ``IterBasedTrainLoop``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_iters: Optional[int] = None,
                 val_begin: int = 1,
                 val_interval: Optional[int] = None,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None,
                 reseed_every_iter: bool = True,
                 max_epochs: Optional[int] = None,
                 val_interval_epochs: Optional[int] = None) -> None:
        # Not IterBasedTrainLoop.__init__: it creates the data iterator (and
        # starts workers) before resume tells us where the stream begins.
        BaseLoop.__init__(self, runner, dataloader)
        apply_thread_plan(runner, self.dataloader)
        #: Iterations per epoch of the training loader.
        self.epoch_length = len(self.dataloader)
        if max_iters is None:
            if max_epochs is None:
                raise ValueError('train_cfg needs max_iters or max_epochs.')
            if int(max_epochs) != max_epochs or max_epochs <= 0:
                raise ValueError('train_cfg.max_epochs must be a positive '
                                 f'integer, got {max_epochs!r}')
            max_iters = int(max_epochs) * self.epoch_length
        self._max_iters = int(max_iters)
        if self._max_iters != max_iters or max_iters <= 0:
            raise ValueError('train_cfg.max_iters must be a positive integer, '
                             f'got {max_iters!r}')
        if val_interval is None:
            val_interval = (1000 if val_interval_epochs is None else
                            int(val_interval_epochs) * self.epoch_length)
        self._max_epochs = 1
        self._epoch = 0
        self._iter = 0
        self.val_begin = val_begin
        self.val_interval = val_interval
        self.stop_training = False
        self.reseed_every_iter = reseed_every_iter
        if hasattr(self.dataloader.dataset, 'metainfo'):
            self.runner.visualizer.dataset_meta = \
                self.dataloader.dataset.metainfo
        self.dataloader_iterator: Optional[_InfiniteDataloaderIterator] = None
        self.dynamic_milestones, self.dynamic_intervals = \
            calc_dynamic_intervals(self.val_interval, dynamic_intervals)

    def restart_data_stream(self, consumed_iters: int) -> None:
        """Start the data stream again after ``consumed_iters`` iterations,
        e.g. when a hook changed the sampler (PGD switches to its weighted
        sampler); batches prefetched from the old stream are dropped. Needs a
        sampler with ``set_start``. From ``after_train_iter`` pass
        ``runner.iter + 1``."""
        sampler = sampler_of(self.dataloader)
        if not hasattr(sampler, 'set_start'):
            raise TypeError(
                f'restart_data_stream needs a sampler that can start '
                f'mid-stream (ResumableInfiniteSampler), got '
                f'{type(sampler).__name__}; set train_dataloader.sampler.')
        sampler.set_start(consumed_iters * self.dataloader.batch_size)
        self.dataloader_iterator = _InfiniteDataloaderIterator(
            self.dataloader)

    def set_train_pipeline(self, pipeline: Callable) -> Callable:
        """Replace the training set's pipeline and return the old one (PGD
        trains f_b on the raw training set and f_d on augmented images).

        Loader workers hold a copy of the data set, so persistent ones are
        stopped here; the next (re)start of the data stream forks new ones.
        Call it before the stream starts (``before_train``) or follow it
        with :meth:`restart_data_stream`.
        """
        dataset = self.dataloader.dataset
        if isinstance(self.dataloader, InMemoryDataLoader):
            raise TypeError(
                'set_train_pipeline: the training split is decoded into '
                'memory with its pipeline (train_dataloader.in_memory); '
                'remove in_memory to switch pipelines during training.')
        if not hasattr(dataset, 'pipeline'):
            raise TypeError(
                f'set_train_pipeline: the training set '
                f'{type(dataset).__name__} has no pipeline attribute.')
        old, dataset.pipeline = dataset.pipeline, pipeline
        # torch keeps persistent workers in the private ``_iterator``
        # (DataLoader has no public way to stop them).
        workers = getattr(self.dataloader, '_iterator', None)
        if workers is not None:
            if hasattr(workers, '_shutdown_workers'):
                workers._shutdown_workers()
            self.dataloader._iterator = None
        return old

    def _start_data_stream(self) -> None:
        sampler = sampler_of(self.dataloader)
        if self._iter > 0 and hasattr(sampler, 'set_start'):
            sampler.set_start(self._iter * self.dataloader.batch_size)
            self.dataloader_iterator = _InfiniteDataloaderIterator(
                self.dataloader)
            return
        self.dataloader_iterator = _InfiniteDataloaderIterator(self.dataloader)
        if self._iter > 0:
            print_log(
                f'Replaying {self._iter} batches to resume: the sampler '
                f'{type(sampler).__name__} cannot start mid-stream (use '
                'ResumableInfiniteSampler to skip them for free).',
                logger='current',
                level=logging.WARNING)
            for _ in range(self._iter):
                next(self.dataloader_iterator)

    def _reseed(self) -> None:
        seed = self.runner.seed if self.runner.seed is not None else 0
        words = np.random.SeedSequence([seed, get_rank(),
                                        self._iter]).generate_state(3)
        random.seed(int(words[0]))
        np.random.seed(int(words[1]))
        seed_torch(int(words[2]))

    def _prepare_model(self) -> None:
        """Before any hook runs (after a resume has loaded the checkpoint):
        tell the algorithm the run's length, from which it resolves its
        schedule, and let it size its per-sample tables for the training
        set."""
        model = unwrap(self.runner.model)
        if isinstance(model, BaseDebiasAlgorithm):
            model.prepare_schedule(self._max_iters, len(self.dataloader))
            store = (self.dataloader.store if isinstance(
                self.dataloader, InMemoryDataLoader) else None)
            model.prepare_train(self.dataloader.dataset, store)

    def _validation_due(self) -> bool:
        return (self.runner.val_loop is not None
                and self._iter >= self.val_begin
                and (self._iter % self.val_interval == 0
                     or self._iter == self._max_iters))

    def _validate_if_missed(self) -> None:
        """On resume at a validated iteration: validate now unless the
        work dir's results already hold that validation complete. The
        checkpoint of iteration N is written before N's validation, so a job
        killed in between would otherwise never evaluate N (nor, at the last
        iteration, end with its final results). Rank 0 decides for all."""
        self._decide_current_val_interval()
        if self._iter == 0 or not self._validation_due():
            return
        path = osp.join(self.runner.work_dir, RESULTS_FILE)
        done = [
            is_main_process() and osp.isfile(path)
            and self._iter in complete_validations(read_results(path))
        ]
        broadcast_object_list(done)
        if not done[0]:
            print_log(
                f'Resumed at iteration {self._iter}, whose validation is '
                f'not in {path}: validating before training on.',
                logger='current')
            self.runner.val_loop.run()

    def run(self) -> torch.nn.Module:
        self._prepare_model()
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        self._validate_if_missed()
        self._start_data_stream()
        while self._iter < self._max_iters and not self.stop_training:
            if self.reseed_every_iter:
                self._reseed()
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)

            self._decide_current_val_interval()
            if self._validation_due():
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model


class _Split:
    """One evaluated split: a name, its data loader and its evaluator."""

    def __init__(self, name: str, dataloader: DataLoader,
                 evaluator: Evaluator) -> None:
        self.name = name
        self.dataloader = dataloader
        self.evaluator = evaluator
        if hasattr(dataloader.dataset, 'metainfo'):
            evaluator.dataset_meta = dataloader.dataset.metainfo


class _MultiSplitMixin:
    """Shared machinery of the multi-split validation and test loops."""

    mode: str = 'val'
    runner: Any
    fp16: bool

    def _init_splits(self, runner, primary_name: str, primary_loader,
                     evaluator_cfg, others: Dict[str, Any]) -> None:
        if not isinstance(evaluator_cfg, (dict, list)):
            raise TypeError(
                f'{type(self).__name__} needs the evaluator as a config '
                '(dict or list) to build one copy per split, got '
                f'{type(evaluator_cfg).__name__}.')
        self.splits: List[_Split] = [
            _Split(primary_name, primary_loader,
                   runner.build_evaluator(copy.deepcopy(evaluator_cfg)))
        ]
        for name, loader in others.items():
            if loader is None:
                continue
            if name in [s.name for s in self.splits]:
                raise ValueError(f'Split name "{name}" is used twice in '
                                 f'{self.mode}_cfg; give each split its own '
                                 'name.')
            if isinstance(loader, dict):
                loader = runner.build_dataloader(loader, seed=runner.seed)
            self.splits.append(
                _Split(name, loader,
                       runner.build_evaluator(copy.deepcopy(evaluator_cfg))))
        # mmengine's ValLoop/TestLoop attributes point at the primary split.
        self.dataloader = self.splits[0].dataloader
        self.evaluator = self.splits[0].evaluator

    def _evaluate_split(self, split: _Split) -> Dict[str, Any]:
        self.current_split = split.name
        for idx, data_batch in enumerate(split.dataloader):
            self.runner.call_hook(
                f'before_{self.mode}_iter', batch_idx=idx,
                data_batch=data_batch)
            with torch.no_grad(), autocast(enabled=self.fp16):
                if self.mode == 'val':
                    outputs = self.runner.model.val_step(data_batch)
                else:
                    outputs = self.runner.model.test_step(data_batch)
            split.evaluator.process(data_samples=outputs, data_batch=data_batch)
            self.runner.call_hook(
                f'after_{self.mode}_iter', batch_idx=idx,
                data_batch=data_batch, outputs=outputs)
        return split.evaluator.evaluate(len(split.dataloader.dataset))

    def _checkpoint_name(self) -> Optional[str]:
        return None

    def _order(self, metrics: Dict[str, float]) -> Dict[str, float]:
        """Put ``selection_metric`` first (the key of
        ``CheckpointHook(save_best='auto')``).

        A metric that is undefined at this evaluation (e.g. a validation
        split without bias-conflicting samples) is reported as NaN with a
        warning: NaN never compares better, so no checkpoint is selected on
        it, and training goes on.
        """
        key = getattr(self, 'selection_metric', None)
        if key is None:
            return metrics
        if key not in metrics:
            split, _, name = key.partition('/')
            if split not in {s.name for s in self.splits}:
                raise KeyError(
                    f'{self.mode}_cfg.selection_metric="{key}" names no '
                    'evaluated split; use "<split>/<metric>" with a split '
                    f'among {[s.name for s in self.splits]}.')
            print_log(
                f'{self.mode}_cfg.selection_metric "{key}" is undefined at '
                f'this evaluation (the "{split}" split has no samples of its '
                'group?); no checkpoint is selected on it. Evaluated: '
                f'{", ".join(sorted(metrics))}.',
                logger='current',
                level=logging.WARNING)
            return {key: float('nan'), **metrics}
        return {key: metrics[key], **metrics}

    def _iteration(self) -> Optional[int]:
        return None

    def _run_splits(self) -> Dict[str, float]:
        self.runner.call_hook(f'before_{self.mode}')
        self.runner.call_hook(f'before_{self.mode}_epoch')
        self.runner.model.eval()
        logged: Dict[str, float] = {}
        self.last_tables: Dict[str, Dict[str, Any]] = {}
        for split in self.splits:
            metrics = self._evaluate_split(split)
            scalars, tables = split_scalars(metrics)
            self.last_tables[split.name] = dict(
                tables, _dataset_meta=split.evaluator.dataset_meta or {})
            logged.update({f'{split.name}/{k}': v for k, v in scalars.items()})
            if is_main_process():
                self._write(split.name, scalars, tables)
        self.current_split = None
        logged = self._order(logged)
        self.runner.call_hook(f'after_{self.mode}_epoch', metrics=logged)
        self.runner.call_hook(f'after_{self.mode}')
        return logged

    def _write(self, split: str, scalars: Dict[str, float],
               tables: Dict[str, Any]) -> None:
        record = run_record(self.runner, self.mode, split,
                            self._checkpoint_name())
        record.update(iter=self._iteration(), metrics=scalars, tables=tables)
        append_result(self.runner.work_dir, record)
        if tables:
            step = 'final' if record['iter'] is None else record['iter']
            dump(
                tables,
                osp.join(self.runner.work_dir, 'cell_acc',
                         f'{self.mode}_{split}_{step}.json'),
                indent=1)


@LOOPS.register_module()
class MultiSplitValLoop(_MultiSplitMixin, ValLoop):
    """Validation over ``val_dataloader`` (split ``valid``), the test split
    (``test_dataloader``, unless ``include_test=False``) and any
    ``extra_splits`` given as ``{name: dataloader config}``.

    Metric keys are ``<split>/<metric>``, e.g. ``valid/conflicting_acc``.
    ``selection_metric`` is put first among them, which is the key
    ``CheckpointHook(save_best='auto')`` keeps the best checkpoint by; each
    dataset config names the metric of its papers' protocol, on the
    validation split. Other rules are applied after training from
    ``results.jsonl``; evaluating the test split here does not select on it.
    """

    mode = 'val'

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 split_name: str = 'valid',
                 include_test: bool = True,
                 extra_splits: Optional[Dict[str, Dict]] = None,
                 selection_metric: Optional[str] = None,
                 fp16: bool = False) -> None:
        BaseLoop.__init__(self, runner, dataloader)
        self.fp16 = fp16
        self.val_loss: dict = {}
        self.selection_metric = selection_metric
        others: Dict[str, Any] = {}
        if include_test:
            others['test'] = copy.deepcopy(runner._test_dataloader)
        others.update(extra_splits or {})
        self._init_splits(runner, split_name, self.dataloader, evaluator,
                          others)
        if hasattr(self.dataloader.dataset, 'metainfo'):
            self.runner.visualizer.dataset_meta = \
                self.dataloader.dataset.metainfo

    def _iteration(self) -> Optional[int]:
        return self.runner.iter

    def run(self) -> dict:
        metrics = self._run_splits()
        return metrics


@LOOPS.register_module()
class MultiSplitTestLoop(_MultiSplitMixin, TestLoop):
    """Test over ``test_dataloader`` (split ``test``), the validation split
    (``val_dataloader``, unless ``include_valid=False``) and any
    ``extra_splits``. Used by ``tools/test.py``; records the checkpoint."""

    mode = 'test'

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 split_name: str = 'test',
                 include_valid: bool = True,
                 extra_splits: Optional[Dict[str, Dict]] = None,
                 fp16: bool = False) -> None:
        BaseLoop.__init__(self, runner, dataloader)
        apply_thread_plan(runner, self.dataloader)
        self.fp16 = fp16
        self.test_loss: dict = {}
        others: Dict[str, Any] = {}
        if include_valid:
            others['valid'] = copy.deepcopy(runner._val_dataloader)
        others.update(extra_splits or {})
        self._init_splits(runner, split_name, self.dataloader, evaluator,
                          others)

    def _checkpoint_name(self) -> Optional[str]:
        return self.runner.cfg.get('load_from')

    def _iteration(self) -> Optional[int]:
        return self.runner.message_hub.get_info('checkpoint_iter')

    def run(self) -> dict:
        return self._run_splits()
