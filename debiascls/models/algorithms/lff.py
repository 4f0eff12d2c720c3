"""LfF (Nam et al., NeurIPS 2020) and LfF+BE (Lee et al., AAAI 2023)."""
from typing import Dict, Optional

import torch
import torch.distributed as torch_dist
import torch.nn.functional as F
from mmengine.dist import get_world_size
from mmengine.optim import OptimWrapperDict

from debiascls.models.algorithms.base import BaseDebiasAlgorithm
from debiascls.models.losses import generalized_ce
from debiascls.registry import MODELS


def global_count(mask: torch.Tensor) -> int:
    """Number of True entries of ``mask`` summed over all ranks."""
    count = mask.sum().to(torch.int64).reshape(1)
    if (torch_dist.is_available() and torch_dist.is_initialized()
            and get_world_size() > 1):
        torch_dist.all_reduce(count)
    return int(count.item())


def masked_mean_over_ranks(losses: torch.Tensor,
                           mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``losses[mask]`` over the samples of *all* ranks' batches.

    Each rank returns ``sum_local * world_size / count_global``; the data
    parallel wrapper averages gradients over ranks, so the update equals a
    single process's mean over the union of the batches. Callers skip the
    update when the global count is 0.
    """
    count = max(global_count(mask), 1)
    return (losses * mask).sum() * get_world_size() / count


@MODELS.register_module()
class LfF(BaseDebiasAlgorithm):
    """Learning from Failure: a biased model ``f_b`` and a debiased model
    ``f_d`` of the same architecture, trained simultaneously, each with its
    own optimizer.

    - ``f_b`` minimises the generalized CE (LfF Eq. 2,
      :func:`~debiascls.models.losses.generalized_ce`, q = 0.7), which
      amplifies its reliance on the easy-to-learn bias.
    - ``f_d`` minimises ``w(x) * CE(f_d(x), y)`` with the relative
      difficulty score (LfF Eq. 3) ``w(x) = l_b / (l_b + l_d)``, computed as
      the official code does (LfF ``train.py``/``util.py``; same in DisEnt
      and BiasEnsemble): ``l_b`` and ``l_d`` are per-sample EMAs of the CE
      losses (``ema_alpha`` weights the old value; the first visit stores
      the raw loss), each divided by its maximum over *all* training samples
      of the sample's class, and ``w = l_b / (l_b + l_d + 1e-8)``, detached.
      The paper writes Eq. 3 on the raw losses; the EMA and class-wise
      normalisation are in the code only.

    With ``bias_amplified=True`` this is **LfF+BE** (BiasEnsemble,
    ``train_lff_be``): before training, a committee of early-stopped biased
    models (:class:`~debiascls.engine.hooks.BiasCommitteeHook`) selects
    the bias-amplified set D^A, and ``f_b`` is trained with plain CE on the
    members of D^A in each batch only (not GCE). The EMA of ``f_b``'s loss
    is still updated on every sample, and BE adds ``1e-8`` to ``f_b``'s
    class maximum.

    Per-sample tables (:attr:`per_sample`): ``loss_b``, ``loss_d`` (EMAs);
    with BE also ``amplified`` (D^A) and ``bn_candidate`` (D_cand^BN, the
    samples the committee's majority misclassifies; IE uses it).

    Args:
        classifier: Config of ``f_d`` (and of ``f_b`` unless
            ``biased_classifier`` is given).
        biased_classifier: Config of ``f_b`` when it differs.
        q: GCE exponent of ``f_b``'s loss.
        ema_alpha: Weight of the old value in the loss EMAs (0.7 in the
            official code).
        bias_amplified: Train ``f_b`` on BiasEnsemble's D^A (LfF+BE).
        gce_as_coded: GCE as every official code computes it (see
            :func:`~debiascls.models.losses.generalized_ce`).
        data_preprocessor, init_cfg: See :class:`BaseDebiasAlgorithm`.
    """

    main_model = 'debiased'

    def __init__(self,
                 classifier: dict,
                 biased_classifier: Optional[dict] = None,
                 q: float = 0.7,
                 ema_alpha: float = 0.7,
                 bias_amplified: bool = False,
                 gce_as_coded: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            models=dict(
                biased=biased_classifier or classifier, debiased=classifier),
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if not 0 <= ema_alpha < 1:
            raise ValueError(f'{type(self).__name__}: ema_alpha must lie in '
                             f'[0, 1), got {ema_alpha}.')
        self.q = q
        self.ema_alpha = ema_alpha
        self.bias_amplified = bias_amplified
        self.gce_as_coded = gce_as_coded
        self.add_per_sample_tables(dict(loss_b='float', loss_d='float'))
        #: Added to f_b's class maximum in w(x) (BE's train_lff_be: 1e-8).
        self.max_b_eps = 1e-8 if bias_amplified else 0.0
        if bias_amplified:
            self.add_per_sample_tables(
                dict(amplified='bool', bn_candidate='bool'))
            #: Set by BiasCommitteeHook once D^A and D_cand^BN are filled.
            self.register_buffer('bias_sets_ready', torch.tensor(False))

    @property
    def required_hooks(self):  # type: ignore[override]
        return ('BiasCommitteeHook', ) if self.bias_amplified else ()

    # ------------------------------------------------------------------ #
    # LfF's relative difficulty
    # ------------------------------------------------------------------ #
    def relative_difficulty(self, idx: torch.Tensor, labels: torch.Tensor,
                            ce_b: torch.Tensor,
                            ce_d: torch.Tensor) -> torch.Tensor:
        """Update the loss EMAs with this step's per-sample CE losses (of
        every rank) and return ``w(x)`` for the local batch (detached).

        Also keeps ``(idx, ce_b)`` of all ranks in ``self._last_ce_b`` for
        scores computed after the step (IE's BN score).
        """
        state = self.per_sample
        g_idx, g_ce_b, g_ce_d = state.gather(idx, ce_b, ce_d)
        state.ema_update('loss_b', g_idx, g_ce_b, self.ema_alpha)
        state.ema_update('loss_d', g_idx, g_ce_d, self.ema_alpha)
        self._last_ce_b = (g_idx, g_ce_b)
        max_b = state.class_max('loss_b')[labels]
        max_d = state.class_max('loss_d')[labels]
        if self.max_b_eps:  # BE learner.py: max_loss_b + 1e-8
            max_b = max_b + self.max_b_eps
        # A class maximum of 0 (every loss of the class exactly 0) would
        # divide by zero in the official code; such samples get l = 0.
        l_b = state.get('loss_b', idx) / max_b.where(max_b > 0,
                                                     torch.ones_like(max_b))
        l_d = state.get('loss_d', idx) / max_d.where(max_d > 0,
                                                     torch.ones_like(max_d))
        return (l_b / (l_b + l_d + 1e-8)).detach()

    # ------------------------------------------------------------------ #
    # Training
    # ------------------------------------------------------------------ #
    def check_bias_sets(self) -> None:
        """Refuse to train on D^A before the committee has filled it."""
        if not bool(self.bias_sets_ready):
            raise RuntimeError(
                f'{type(self).__name__}(bias_amplified=True): D^A is empty '
                'because BiasCommitteeHook has not run; add it to '
                'custom_hooks (configs/_base_/methods/ do).')

    def biased_loss(self, logits_b: torch.Tensor, labels: torch.Tensor,
                    idx: torch.Tensor) -> Optional[torch.Tensor]:
        """GCE on the batch (LfF), or CE on its members of D^A (LfF+BE);
        ``None`` when no rank's batch holds a member of D^A."""
        if not self.bias_amplified:
            return generalized_ce(logits_b, labels, self.q,
                                  self.gce_as_coded).mean()
        self.check_bias_sets()
        member = self.per_sample.get('amplified', idx)
        if global_count(member) == 0:
            return None
        ce = F.cross_entropy(logits_b, labels, reduction='none')
        return masked_mean_over_ranks(ce, member)

    def update(self, inputs: torch.Tensor, data_samples: Dict[str,
                                                              torch.Tensor],
               optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        labels, idx = data_samples['gt_label'], data_samples['sample_idx']
        f_b, f_d = self.models['biased'], self.models['debiased']
        opt_b, opt_d = optim_wrapper['biased'], optim_wrapper['debiased']
        with opt_b.optim_context(f_b), opt_d.optim_context(f_d):
            logits_b = f_b(inputs)
            logits_d = f_d(inputs)
            ce_b = F.cross_entropy(logits_b, labels, reduction='none')
            ce_d = F.cross_entropy(logits_d, labels, reduction='none')
            weight = self.relative_difficulty(idx, labels, ce_b.detach(),
                                              ce_d.detach())
            loss_b = self.biased_loss(logits_b, labels, idx)
            loss_d = (ce_d * weight).mean()
        log_vars = dict(loss_d=loss_d, weight_mean=weight.mean())
        if loss_b is not None:
            opt_b.update_params(loss_b)
            log_vars['loss_b'] = loss_b
        opt_d.update_params(loss_d)
        return log_vars
