"""PGD's step 2 between its two training stages: per-sample gradient
scores, sampling probabilities, and the switch of the training sampler."""
import copy
import io
import os.path as osp
from typing import Callable, Dict, Iterator, Optional, Tuple

import numpy as np
import torch
from mmengine.dataset import Compose, default_collate
from mmengine.dist import get_dist_info, is_main_process
from mmengine.hooks import Hook
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader, Subset

from debiascls.engine.hooks.train_set_views import train_set_with_test_pipeline
from debiascls.models.utils.per_sample_grad import iter_per_sample_ce_grads
from debiascls.registry import HOOKS, TRANSFORMS
from debiascls.utils.fileio import atomic_write_bytes
from debiascls.utils.wrappers import sampler_of, unwrap


@HOOKS.register_module()
class PGDScoringHook(Hook):
    """Runs PGD's step 2 after the last iteration of step 1
    (``model.bias_iters``; optionally on the raw training set,
    ``bias_pipeline``): per-sample gradients of ``f_b`` (eval mode) for
    every training sample, in batches with ``torch.func`` and with a progress
    bar, sharded over ranks; the algorithm turns them into scores and
    sampling probabilities (:meth:`PGD.compute_sampling_probs`). Then it

    - stores them in the algorithm's per-sample tables (checkpointed);
    - writes them to ``<work_dir>/<out_file>`` (npz, atomically) and logs
      histograms of the scores and probabilities to TensorBoard and their
      summary to the log;
    - switches the training sampler (a
      :class:`~debiascls.datasets.ResumableInfiniteSampler`) to weighted
      epochs from the current position (rejection sampling for the seed
      variant, sampling with replacement for the official one) and restarts
      the data stream; a resumed run past the switch re-applies the
      probabilities from its checkpoint before the stream starts.

    Args:
        batch_size: Samples per gradient batch.
        pipeline: 'test' scores the samples through the config's
            ``test_pipeline`` (no augmentation, the default), 'train'
            through the training pipeline (the official code scores the
            augmented training loader).
        bias_pipeline: The images f_b trains on in step 1: 'train' (the
            default) the training pipeline in both stages, as the official
            code's one augmented loader; 'test' the raw training set,
            through the config's ``test_pipeline``, as the seed paper's
            text ("the biased model fθb is trained on the raw data
            samples"; its Algorithm 2 augments in step 3 only). f_d always
            trains through the training pipeline.
        num_workers: Data-loader workers (default: the training loader's).
        out_file: File name under the work dir.
    """

    priority = 'NORMAL'

    def __init__(self,
                 batch_size: int = 256,
                 pipeline: str = 'test',
                 bias_pipeline: str = 'train',
                 num_workers: Optional[int] = None,
                 out_file: str = 'pgd_scores.npz') -> None:
        for key, value in (('pipeline', pipeline),
                           ('bias_pipeline', bias_pipeline)):
            if value not in ('test', 'train'):
                raise ValueError(f'PGDScoringHook: {key} must be "test" or '
                                 f'"train", got "{value}".')
        self.batch_size = batch_size
        self.pipeline = pipeline
        self.bias_pipeline = bias_pipeline
        self._augmented: Optional[Callable] = None
        self.num_workers = num_workers
        self.out_file = out_file

    # ------------------------------------------------------------------ #
    def before_train(self, runner) -> None:
        algorithm = unwrap(runner.model)
        if not hasattr(algorithm, 'compute_sampling_probs'):
            raise TypeError(f'PGDScoringHook: {type(algorithm).__name__} is '
                            'not PGD; remove the hook.')
        sampler = sampler_of(runner.train_dataloader)
        if not hasattr(sampler, 'set_weights'):
            raise TypeError(
                'PGDScoringHook needs train_dataloader.sampler = '
                "dict(type='ResumableInfiniteSampler'), got "
                f'{type(sampler).__name__}.')
        algorithm.attach_hook('PGDScoringHook')
        if self.bias_pipeline == 'test' and not hasattr(
                runner.train_loop, 'set_train_pipeline'):
            raise TypeError(
                'PGDScoringHook(bias_pipeline="test") needs train_cfg.type='
                f'"DebiasIterBasedTrainLoop", got '
                f'{type(runner.train_loop).__name__}.')
        if self.bias_pipeline == 'test' and not bool(algorithm.scores_ready):
            self._augmented = runner.train_loop.set_train_pipeline(
                self._test_pipeline(runner))
            runner.logger.info('PGDScoringHook: step 1 trains f_b on the raw '
                               'training set (test_pipeline); step 3 adds '
                               'the training pipeline\'s augmentations.')
        if bool(algorithm.scores_ready):
            self._apply(runner, algorithm)
            runner.logger.info('PGDScoringHook: sampling probabilities '
                               'restored from the checkpoint.')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        algorithm = unwrap(runner.model)
        if runner.iter + 1 != algorithm.bias_iters or bool(
                algorithm.scores_ready):
            return
        if self._augmented is not None:
            runner.train_loop.set_train_pipeline(self._augmented)
            self._augmented = None
        result = self._score(runner, algorithm)
        algorithm.load_sampling_probs(result)
        algorithm.start_debiasing()
        if is_main_process():
            self._save(runner, result)
        self._log(runner, result, rejection=algorithm.variant == 'seed')
        self._apply(runner, algorithm)
        runner.train_loop.restart_data_stream(runner.iter + 1)

    # ------------------------------------------------------------------ #
    def _apply(self, runner, algorithm) -> None:
        """Weighted epochs of the training sampler from step 3 on."""
        sampler = sampler_of(runner.train_dataloader)
        begin = algorithm.bias_iters * runner.train_dataloader.batch_size
        mode = 'rejection' if algorithm.variant == 'seed' else 'multinomial'
        sampler.set_weights(
            algorithm.per_sample.get('sampling_prob').cpu().numpy(),
            begin=begin,
            mode=mode)

    @staticmethod
    def _test_pipeline(runner) -> Callable:
        cfg = runner.cfg.get('test_pipeline')
        if not cfg:
            raise KeyError(
                'PGDScoringHook(bias_pipeline="test") builds step 1\'s '
                'pipeline from the config\'s top-level test_pipeline, which '
                'this config lacks; add one or set bias_pipeline="train".')
        return Compose([
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in copy.deepcopy(cfg)
        ])

    def _dataset(self, runner):
        if self.pipeline == 'test' and runner.cfg.get('test_pipeline'):
            return train_set_with_test_pipeline(runner, 'PGDScoringHook')
        return runner.train_dataloader.dataset

    def _score(self, runner, algorithm) -> Dict[str, np.ndarray]:
        dataset = self._dataset(runner)
        labels = algorithm.per_sample.gt_label.cpu().numpy()
        pool = getattr(algorithm, 'train_pool', None)
        pool = np.arange(len(labels)) if pool is None else np.asarray(pool)
        rank, world = get_dist_info()
        shard = pool[rank::world]
        workers = (self.num_workers if self.num_workers is not None else
                   runner.cfg.train_dataloader.get('num_workers', 0))
        loader = DataLoader(
            Subset(dataset, shard.tolist()),
            batch_size=self.batch_size,
            num_workers=workers,
            collate_fn=default_collate)
        f_b = algorithm.models['biased']
        chunk = algorithm.grad_chunk_size(next(f_b.parameters()).device)
        passes = 1 if algorithm.variant == 'official' else 2
        progress = ProgressBar(passes * len(loader)) if rank == 0 else None
        runner.logger.info(
            f'PGDScoringHook: per-sample gradients of f_b for {len(pool)} '
            f'samples ({passes} pass(es), torch.func, chunks of {chunk}).')

        def grad_batches(params, dims) -> Iterator[Tuple[torch.Tensor,
                                                         torch.Tensor]]:
            # One chunk of ``chunk`` samples at a time: the algorithm
            # reduces each chunk (per-class sums, or the dominant
            # dimensions selected here), so no (batch, d) matrix is built.
            was_training = f_b.training
            f_b.eval()
            try:
                for batch in loader:
                    data = algorithm.data_preprocessor(batch, False)
                    samples = data['data_samples']
                    y = samples['gt_label']
                    idx = samples['sample_idx'].cpu()
                    for rows, g in iter_per_sample_ce_grads(
                            f_b, data['inputs'], y, params, chunk):
                        g = g.detach()
                        if dims is not None:
                            keep = torch.stack([
                                dims[int(c)] for c in y[rows].tolist()
                            ]).to(g.device)
                            g = torch.gather(g, 1, keep)
                        yield idx[rows], g.cpu()
                    if progress is not None:
                        progress.update()
            finally:
                f_b.train(was_training)

        return algorithm.compute_sampling_probs(grad_batches, labels, pool)

    def _save(self, runner, result: Dict[str, np.ndarray]) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, **{k: np.asarray(v) for k, v in result.items()})
        atomic_write_bytes(buffer.getvalue(),
                           osp.join(runner.work_dir, self.out_file))

    def _log(self, runner, result: Dict[str, np.ndarray],
             rejection: bool) -> None:
        probs = result['sampling_prob']
        kept = probs[probs > 0]
        # Both samplers draw sample i in proportion to p_i; the effective
        # number of distinct samples of that distribution is
        # (sum p)^2 / sum p^2 (N for uniform, 1 for a point mass).
        ess = float(kept.sum()**2 / (kept**2).sum())
        how = (f'expected acceptance of the rejection sampler '
               f'{kept.mean():.3g}' if rejection else
               'drawn with replacement')
        runner.logger.info(
            'PGDScoringHook: sampling probabilities: min '
            f'{kept.min():.3g}, median {np.median(kept):.3g}, max '
            f'{kept.max():.3g}; {how}; effective sample size {ess:.1f} of '
            f'{len(kept)}. Written to '
            f'{osp.join(runner.work_dir, self.out_file)}.')
        step = runner.iter + 1
        for backend in getattr(runner.visualizer, '_vis_backends',
                               {}).values():
            writer = getattr(backend, 'experiment', None)
            if writer is not None and hasattr(writer, 'add_histogram'):
                writer.add_histogram('pgd/sampling_prob', kept, step)
                writer.add_histogram('pgd/score',
                                     result['pgd_score'][probs > 0], step)
