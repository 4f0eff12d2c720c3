"""PGD: de-biasing with per-sample gradients (Ahn et al., ICLR'22
submission "Mitigating dataset bias using per-sample gradient"), and the
variant of its official code (ICLR'23)."""
import math
from typing import Callable, Dict, Optional, Sequence, Union

import numpy as np
import torch
import torch.distributed as torch_dist
import torch.nn.functional as F
from mmengine.dist import get_world_size
from mmengine.optim import OptimWrapperDict

from debiascls.models.algorithms.base import BaseDebiasAlgorithm
from debiascls.models.losses import generalized_ce
from debiascls.models.utils import all_gather_rows
from debiascls.models.utils.per_sample_grad import (auto_chunk_size,
                                                     num_grad_dims)
from debiascls.models.utils.vmf import vmf_log_pdf, vmf_mle
from debiascls.registry import MODELS
from debiascls.utils.dist import collective_device

VARIANTS = ('seed', 'official')


def all_reduce_sum(tensor: torch.Tensor) -> None:
    """Sum ``tensor`` over ranks in place (no-op for one process)."""
    if (torch_dist.is_available() and torch_dist.is_initialized()
            and get_world_size() > 1):
        on_device = tensor.to(collective_device())
        torch_dist.all_reduce(on_device)
        tensor.copy_(on_device)


def dominant_dims(abs_sum: torch.Tensor, k: int) -> torch.Tensor:
    """PGD §4.1: the ``k`` dimensions ``K`` with the largest
    ``sum_i |grad_i^j|`` (the "k-dominant sub-dimensions"), sorted."""
    k = min(k, abs_sum.numel())
    return torch.topk(abs_sum, k).indices.sort().values


def class_scores(grads: torch.Tensor,
                 lam: float,
                 direction_floor: Optional[float] = None
                 ) -> Dict[str, torch.Tensor]:
    """PGD Eq. (1) and the aggregated score, for the samples of one class.

    - magnitude ``M(i) = (1 / ||g_i||) / sum_j (1 / ||g_j||)``;
    - direction ``D(i) = p_dir(i) / sum_j p_dir(j)`` with ``p_dir`` the vMF
      density of ``g_i / ||g_i||`` under the approximate MLE (Appendix G),
      computed in log space (its normaliser cancels in ``D`` but not in
      the reported ``log_p_dir``); with ``direction_floor`` the density
      relative to the class's most typical sample, ``p_dir(i) / max_j
      p_dir(j)``, is first clamped to ``[direction_floor, 1]``, as the
      official repository's ``calc_vmf`` helper does (floor 1e-8);
    - ``S(i) = (1 + lam) M(i) D(i) / (lam M(i) + D(i))``, the harmonic mean
      of ``M`` and ``D`` weighted by ``lam`` (``lam = 0``: ``M`` alone,
      ``lam -> inf``: ``D`` alone; the formula is garbled in our copy of
      the paper, which says ``lam`` balances the two scores and that ``S``
      is a harmonic mean).

    Args:
        grads: (n, k) per-sample gradients of the class (on its dominant
            dimensions).
        lam: The balancing hyper-parameter.
        direction_floor: Smallest relative direction density, or None for
            the exact vMF density.
    """
    g = grads.double()
    norms = g.norm(dim=1).clamp_min(1e-30)
    # Everything in log space: with a concentrated class (large kappa) the
    # direction scores of outliers are below float64's range (exp(-750)),
    # and S = 0 would make every p_s = min S / S zero.
    log_inv = -norms.log()
    log_m = log_inv - torch.logsumexp(log_inv, dim=0)
    unit = g / norms[:, None]
    u, r, kappa = vmf_mle(unit)
    log_p_dir = vmf_log_pdf(unit, u, kappa)
    log_rel = log_p_dir - log_p_dir.max()
    if direction_floor is not None:
        log_rel = log_rel.clamp_min(math.log(direction_floor))
    log_d = torch.log_softmax(log_rel, dim=0)
    log_lam = math.log(lam) if lam > 0 else -math.inf
    log_score = (math.log1p(lam) + log_m + log_d -
                 torch.logaddexp(log_lam + log_m, log_d))
    return dict(magnitude=log_m.exp(), direction=log_d.exp(),
                score=log_score.exp(), log_score=log_score,
                log_p_dir=log_p_dir, kappa=torch.tensor(kappa),
                resultant=torch.tensor(r))


def _fold(total: Optional[torch.Tensor],
          part: torch.Tensor) -> torch.Tensor:
    """``total + part`` in float64 (``part`` is then zeroed for re-use)."""
    total = part.double() if total is None else total.add_(part)
    part.zero_()
    return total


def rejection_probs(log_scores: torch.Tensor) -> torch.Tensor:
    """``p_s(i) = C / S(i)`` with ``C = min_i S(i)`` (PGD §4.2), from
    ``log S``: the sample with the smallest score is always accepted by the
    rejection sampler, and no probability is 0 or NaN however small the
    scores."""
    return (log_scores.min() - log_scores).exp()


def official_probs(fc_grads: torch.Tensor, p: float) -> torch.Tensor:
    """The official code's sampling probabilities: ``||grad_W CE_i||_p`` of
    the last layer's weight (a quasi-norm for ``p < 1``), normalised to sum
    to one."""
    g = fc_grads.double().abs()
    norms = g.pow(p).sum(dim=1).pow(1 / p)
    return norms / norms.sum()


@MODELS.register_module()
class PGD(BaseDebiasAlgorithm):
    """De-biasing with per-sample gradients (PGD Algorithm 2).

    1. Until ``bias_iters`` (phase ``debias`` off) the biased model ``f_b``
       is trained with GCE (q = 0.7) on the raw training set.
    2. At ``bias_iters``, :class:`~debiascls.engine.hooks.PGDScoringHook`
       calls :meth:`compute_sampling_probs`: per-sample gradients of ``f_b``'s
       CE for every training sample with ``torch.func``, then
       (``variant='seed'``) per class the ``num_dims`` dominant dimensions,
       magnitude and vMF direction scores, their weighted harmonic mean
       ``S(i)`` and ``p_s(i) = min S / S(i)``; or (``variant='official'``)
       ``p(i)`` proportional to the ``norm_p``-norm of the last layer's
       weight gradient. The hook hands ``p`` to the training sampler:
       rejection sampling (seed, Algorithm 1) or sampling with replacement
       (official).
    3. From ``bias_iters`` on, ``f_d`` is trained with CE on the sampler's
       batches (with PGD's augmentations in the training pipeline); the
       official variant first copies ``f_b``'s weights into ``f_d``.

    Per-sample tables: ``sampling_prob`` (p), ``pgd_score`` (S, or the
    official gradient norm), ``magnitude`` and ``direction`` (seed).

    Args:
        classifier, biased_classifier: As in :class:`LfF`.
        bias_iters: Iterations of step 1, or a fraction of the run's
            ``max_iters`` (PGD trains as many epochs in step 1 as in step 3:
            0.5).
        variant: 'seed' (the paper) or 'official' (its code).
        q: GCE exponent of step 1.
        num_dims: K of the dominant dimensions (Table 4: 100 for the MNIST
            variants and Cartoon, 500 for the real-world sets).
        lam: The balancing hyper-parameter of ``S``.
        grad_params: Parameter-name prefixes whose gradients are scored
            (default: all of ``f_b``'s for the seed variant, the last layer's
            weight ``head.fc.weight`` for the official one).
        norm_p: The official variant's norm (0.7).
        init_debiased_from_biased: Start ``f_d`` from ``f_b``'s weights
            (default: True for the official variant, False for the seed,
            whose Algorithm 2 trains a separate ``theta_d``).
        chunk_size: Samples per vectorised gradient chunk (default: by
            :func:`~debiascls.models.utils.per_sample_grad.auto_chunk_size`,
            64 except where a CPU's allocator favours smaller chunks).
        direction_floor: The seed variant's smallest direction density
            relative to its class's most typical gradient. The paper's
            formula has no floor; the official repository's vMF helper
            (``module/scores.py``, ``calc_vmf``) clamps it at 1e-8, which we
            follow by default. Without it (None) a concentrated class
            (kappa in the hundreds) spreads ``p_s`` over hundreds of orders
            of magnitude and the rejection sampler accepts a handful of
            samples only (docs/benchmarks.md).
    """

    main_model = 'debiased'
    phase_names = ('debias', )
    #: Step 2 sums |grad| of up to this many samples in the gradients'
    #: precision before adding them to the float64 per-class sums.
    FOLD_SAMPLES = 256

    def __init__(self,
                 classifier: dict,
                 bias_iters: Union[int, float],
                 biased_classifier: Optional[dict] = None,
                 variant: str = 'seed',
                 q: float = 0.7,
                 num_dims: int = 100,
                 lam: float = 1.0,
                 grad_params: Optional[Sequence[str]] = None,
                 norm_p: float = 0.7,
                 init_debiased_from_biased: Optional[bool] = None,
                 chunk_size: Optional[int] = None,
                 direction_floor: Optional[float] = 1e-8,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            models=dict(
                biased=biased_classifier or classifier, debiased=classifier),
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if variant not in VARIANTS:
            raise ValueError(f'PGD: variant="{variant}" is not one of '
                             f'{VARIANTS}.')
        fraction = isinstance(bias_iters, float) and 0 < bias_iters < 1
        if not fraction and (int(bias_iters) != bias_iters
                             or bias_iters < 1):
            raise ValueError(
                'PGD: bias_iters must be a positive number of iterations or '
                f'a fraction of max_iters in (0, 1), got {bias_iters!r}.')
        if lam < 0 or num_dims < 1:
            raise ValueError('PGD: lam must be >= 0 and num_dims >= 1.')
        if direction_floor is not None and not 0 < direction_floor < 1:
            raise ValueError(
                'PGD: direction_floor must be in (0, 1) or None (the exact '
                f'vMF density), got {direction_floor!r}.')
        self.direction_floor = direction_floor
        self.variant = variant
        self.q = q
        self.num_dims = int(num_dims)
        self.lam = lam
        if grad_params is None and variant == 'official':
            grad_params = ['head.fc.weight']
        self.grad_params = None if grad_params is None else list(grad_params)
        self.norm_p = norm_p
        if init_debiased_from_biased is None:
            init_debiased_from_biased = variant == 'official'
        self.init_debiased_from_biased = init_debiased_from_biased
        if chunk_size is not None and int(chunk_size) < 1:
            raise ValueError('PGD: chunk_size must be a positive number of '
                             f'samples or None (automatic), got '
                             f'{chunk_size!r}.')
        self.chunk_size = chunk_size
        self.add_per_sample_tables(
            dict(sampling_prob='float', pgd_score='float', magnitude='float',
                 direction='float'))
        #: Set once the sampling probabilities are computed.
        self.register_buffer('scores_ready', torch.tensor(False))
        self._bias_iters = bias_iters
        self.phase_begins = dict(debias=1 if fraction else int(bias_iters))

    @property
    def required_hooks(self):  # type: ignore[override]
        return ('PGDScoringHook', )

    def prepare_schedule(self, max_iters: int, iters_per_epoch: int) -> None:
        """Resolve a fractional ``bias_iters`` against the run's length."""
        if isinstance(self._bias_iters, float) and self._bias_iters < 1:
            self.phase_begins = dict(
                debias=max(1, round(self._bias_iters * max_iters)))
        super().prepare_schedule(max_iters, iters_per_epoch)

    @property
    def bias_iters(self) -> int:
        return self.phase_begins['debias']

    # ------------------------------------------------------------------ #
    # Step 2
    # ------------------------------------------------------------------ #
    def compute_sampling_probs(self, grad_batches: Callable,
                               labels: np.ndarray,
                               pool: Optional[np.ndarray] = None
                               ) -> Dict[str, np.ndarray]:
        """Scores and sampling probabilities of every training sample.

        Args:
            grad_batches: ``grad_batches(params, dims)`` iterates over
                ``(idx, grads)`` batches of per-sample gradients of ``f_b``
                for this rank's share of the pool (``dims``: per-class
                dimension indices to keep, or None for all); it is called
                once (official) or twice (seed). A yielded batch is
                scratch: valid until the next one is requested, and
                modified here (``abs_``). Results of all ranks are
                combined here (sums all-reduced, rows gathered), so every
                rank returns the same arrays.
            labels: (N,) training labels.
            pool: Indices allowed (e.g. the de-noised samples); the others
                get probability 0.

        Returns:
            ``sampling_prob``, ``pgd_score``, ``magnitude``, ``direction``
            (N,) arrays (0 outside the pool) and, for the seed variant, the
            per-class vMF ``kappa``.
        """
        num_samples = len(labels)
        pool = np.arange(num_samples) if pool is None else np.asarray(pool)
        out = {k: np.zeros(num_samples) for k in
               ('sampling_prob', 'pgd_score', 'magnitude', 'direction')}

        def gathered(dims):
            rows: Dict[int, torch.Tensor] = {}
            for idx, g in grad_batches(self.grad_params, dims):
                idx, g = all_gather_rows(idx, g.clone())
                for i, row in zip(idx.tolist(), g):
                    rows[i] = row
            return rows

        if self.variant == 'official':
            rows = gathered(None)
            stacked = torch.stack([rows[i] for i in pool.tolist()])
            out['sampling_prob'][pool] = official_probs(
                stacked, self.norm_p).numpy()
            out['pgd_score'][pool] = stacked.double().abs().pow(
                self.norm_p).sum(1).pow(1 / self.norm_p).numpy()
            return out
        classes = sorted(np.unique(labels[pool]).tolist())
        # Pass 1: per-class sums of |grad| over every dimension: chunks are
        # added into one float32 buffer, folded into the float64 sums every
        # FOLD_SAMPLES samples (a fold of LfF's MLP's 10 x 256k sums costs
        # as much as a chunk's gradients; once per chunk, it was a third
        # of step 2).
        row_of = {c: j for j, c in enumerate(classes)}
        sums: Optional[torch.Tensor] = None
        part: Optional[torch.Tensor] = None
        pending = 0
        for idx, g in grad_batches(self.grad_params, None):
            rows = torch.as_tensor(
                [row_of[int(c)] for c in labels[idx.numpy()]])
            if part is None:
                part = g.new_zeros(len(classes), g.shape[1])
            part.index_add_(0, rows.to(g.device), g.abs_())
            pending += len(idx)
            if pending >= self.FOLD_SAMPLES:
                sums = _fold(sums, part)
                pending = 0
        if pending:
            sums = _fold(sums, part)
        if sums is None:  # this rank's shard is empty
            sums = torch.zeros(
                len(classes),
                num_grad_dims(self.models['biased'], self.grad_params),
                dtype=torch.float64)
        all_reduce_sum(sums)
        dims = {c: dominant_dims(sums[j], self.num_dims)
                for j, c in enumerate(classes)}
        # Pass 2: the dominant dimensions of every sample's gradient.
        reduced = gathered(dims)
        kappas = []
        log_scores = np.zeros(num_samples)
        for c in classes:
            members = pool[labels[pool] == c]
            scores = class_scores(
                torch.stack([reduced[i] for i in members.tolist()]),
                self.lam, self.direction_floor)
            for key in ('magnitude', 'direction'):
                out[key][members] = scores[key].numpy()
            out['pgd_score'][members] = scores['score'].numpy()
            log_scores[members] = scores['log_score'].numpy()
            kappas.append(float(scores['kappa']))
        out['sampling_prob'][pool] = rejection_probs(
            torch.as_tensor(log_scores[pool])).numpy()
        out['kappa'] = np.array(kappas)
        return out

    def grad_chunk_size(self, device: torch.device) -> int:
        """Samples per vectorised chunk of step 2's gradients: the
        configured ``chunk_size``, or the automatic one for ``f_b``'s
        gradient length on ``device``."""
        if self.chunk_size is not None:
            return int(self.chunk_size)
        return auto_chunk_size(
            num_grad_dims(self.models['biased'], self.grad_params), device)

    def load_sampling_probs(self, result: Dict[str, np.ndarray]) -> None:
        """Store step 2's result in the per-sample tables (every rank)."""
        for key in ('sampling_prob', 'pgd_score', 'magnitude', 'direction'):
            self.per_sample.fill(key, torch.as_tensor(result[key]))
        self.scores_ready.fill_(True)

    def start_debiasing(self) -> None:
        """Step 3's start: the official variant copies ``f_b`` into
        ``f_d``."""
        if self.init_debiased_from_biased:
            self.models['debiased'].load_state_dict(
                self.models['biased'].state_dict())

    # ------------------------------------------------------------------ #
    # Steps 1 and 3
    # ------------------------------------------------------------------ #
    def update(self, inputs: torch.Tensor, data_samples: Dict[str,
                                                              torch.Tensor],
               optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        labels = data_samples['gt_label']
        if not self.phase_on('debias'):
            f_b, opt_b = self.models['biased'], optim_wrapper['biased']
            with opt_b.optim_context(f_b):
                loss = generalized_ce(f_b(inputs), labels, self.q).mean()
            opt_b.update_params(loss)
            return dict(loss_b=loss, **self.phase_log_vars())
        if not bool(self.scores_ready):
            raise RuntimeError('PGD: debiasing started without sampling '
                               'probabilities; PGDScoringHook computes them '
                               'at bias_iters.')
        f_d, opt_d = self.models['debiased'], optim_wrapper['debiased']
        with opt_d.optim_context(f_d):
            loss = F.cross_entropy(f_d(inputs), labels)
        opt_d.update_params(loss)
        return dict(loss_d=loss, **self.phase_log_vars())
