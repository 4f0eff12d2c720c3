"""DisEnt (Lee et al., NeurIPS 2021) and DisEnt+BE (Lee et al., AAAI 2023)."""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapperDict

from debiascls.models.algorithms.base import current_iter
from debiascls.models.algorithms.lff import (LfF, global_count,
                                             masked_mean_over_ranks)
from debiascls.models.heads import GAPLinearHead
from debiascls.models.losses import generalized_ce
from debiascls.registry import MODELS
from debiascls.utils import ConfigError


def swap_within_batch(z_b: torch.Tensor, labels: torch.Tensor,
                      perm: torch.Tensor
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
    """DisEnt's feature augmentation (§3.2): ``z~_b = z_b[perm]`` and its
    labels ``y~ = y[perm]``, a random permutation of the batch."""
    return z_b[perm], labels[perm]


@MODELS.register_module()
class DisEnt(LfF):
    """Learning debiased representation via disentangled feature
    augmentation.

    Two encoders, the intrinsic ``E_i`` (``'debiased'``) and the bias ``E_b``
    (``'biased'``), each with a linear classifier on the concatenation
    ``z = [z_i, z_b]`` of both pooled features (``C_i`` and ``C_b``: the
    heads of the two classifiers, built with twice the backbone's width).
    Per step, as the official ``learner.py`` (``train_ours``):

    - ``C_i`` sees ``[z_i, z_b.detach()]``, ``C_b`` sees ``[z_i.detach(),
      z_b]``, so that each encoder is trained by its own classifier only;
    - the relative difficulty ``W(z) = l_b / (l_b + l_i)`` (Eq. 1) comes
      from per-sample EMAs of the two classifiers' CE losses, class-max
      normalised as in LfF (:meth:`LfF.relative_difficulty`; no epsilon on
      the maxima, as DisEnt's code);
    - ``L_dis = W(z) CE(C_i(z), y) + lambda_dis_align GCE(C_b(z), y)``
      (Eq. 2);
    - from iteration ``curr_step + 1`` on (the code tests ``step >
      curr_step``), the bias features are permuted within the batch,
      ``z_swap = [z_i, z~_b]`` (detached as above), and ``L_swap = W(z)
      CE(C_i(z_swap), y) + lambda_swap_align GCE(C_b(z_swap), y~)`` (Eq. 3),
      with ``W(z)`` of the unswapped sample as in the code;
    - ``L = L_dis + lambda_swap L_swap`` (Eq. 4), one step of each
      optimizer. Since the detaches separate the two encoders' gradients,
      each optimizer is stepped on its own part of ``L``.

    DisEnt's ``StepLR`` (``lr_decay_step`` 10K, gamma 0.5 on Colored MNIST)
    is stepped only from ``curr_step`` on: in a config, a ``StepLR`` param
    scheduler with ``begin=curr_step`` (``configs/_base_/schedules/``).

    With ``bias_amplified=True`` this is **DisEnt+BE** (BiasEnsemble
    ``train_disent_be``): the bias branch's two terms are plain CE on the
    members of D^A of the batch (for the swap term, the membership of the
    sample whose ``z_b`` was swapped in), D^A from
    :class:`~debiascls.engine.hooks.BiasCommitteeHook` (whose members are
    the plain classifier, as BE's). Unlike LfF+BE, no epsilon is added to
    the class maximum (BE's ``train_disent_be``).

    Inference: ``C_i([z_i, z_b])`` (``'debiased'``, the algorithm's
    prediction) and ``C_b([z_i, z_b])`` (``'biased'``).

    Args:
        classifier: Config of each encoder + classifier (a backbone and a
            ``GAPLinearHead``, whose input width is doubled here).
        curr_step: Last iteration without the swap (10K).
        lambda_swap: Weight of ``L_swap`` (Eq. 4).
        lambda_dis_align: Weight of the bias branch in ``L_dis`` (Eq. 2).
        lambda_swap_align: Weight of the bias branch in ``L_swap`` (Eq. 3).
        q: GCE exponent (0.7).
        ema_alpha: Weight of the old value in the loss EMAs (0.7).
        bias_amplified: DisEnt+BE.
        gce_as_coded, data_preprocessor, init_cfg: See :class:`LfF`.
    """

    def __init__(self,
                 classifier: dict,
                 curr_step: int = 10000,
                 lambda_swap: float = 1.0,
                 lambda_dis_align: float = 1.0,
                 lambda_swap_align: float = 1.0,
                 q: float = 0.7,
                 ema_alpha: float = 0.7,
                 bias_amplified: bool = False,
                 gce_as_coded: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            classifier=classifier,
            q=q,
            ema_alpha=ema_alpha,
            bias_amplified=bias_amplified,
            gce_as_coded=gce_as_coded,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if int(curr_step) != curr_step or curr_step < 0:
            raise ValueError(f'DisEnt: curr_step={curr_step!r} must be a '
                             'non-negative integer.')
        self.curr_step = int(curr_step)
        self.lambda_swap = float(lambda_swap)
        self.lambda_dis_align = float(lambda_dis_align)
        self.lambda_swap_align = float(lambda_swap_align)
        self.max_b_eps = 0.0  # DisEnt and train_disent_be: none
        for name, model in self.models.items():
            head = model.head
            if type(head) is not GAPLinearHead:
                raise ConfigError(
                    f'DisEnt: model.classifier.head is {type(head).__name__};'
                    ' DisEnt classifies the concatenated pooled features of '
                    "both encoders with a linear layer: use type="
                    "'GAPLinearHead'.")
            model.head = GAPLinearHead(2 * head.in_channels, head.num_classes)

    @classmethod
    def check_config(cls, cfg) -> None:
        """DisEnt steps its StepLR from ``curr_step`` on: a ``StepLR`` of
        ``param_scheduler`` must begin there."""
        curr_step = cfg.model.get('curr_step', 10000)
        max_iters = (cfg.get('train_cfg') or {}).get('max_iters')
        if max_iters is not None and curr_step >= max_iters:
            raise ConfigError(
                f'{cfg.model.type}: model.curr_step={curr_step} is not below '
                f'train_cfg.max_iters={max_iters}, so the feature swap never '
                'starts; lower model.curr_step and the begin of its StepLR '
                '(param_scheduler.0.begin) together.')
        for i, sched in enumerate(cfg.get('param_scheduler') or []):
            if sched.get('type') == 'StepLR' and sched.get(
                    'begin', 0) != curr_step:
                raise ConfigError(
                    f'{cfg.model.type}: model.curr_step={curr_step} but '
                    f'param_scheduler.{i} (StepLR) begins at '
                    f'{sched.get("begin", 0)}; DisEnt decays the lr only '
                    'from curr_step on: set param_scheduler.'
                    f'{i}.begin={curr_step} (or model.curr_step).')

    # ------------------------------------------------------------------ #
    def features(self, inputs: torch.Tensor
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Pooled features ``(z_i, z_b)`` of the two encoders, (B, C) each."""
        f_i, f_b = self.models['debiased'], self.models['biased']
        z_i = f_i.head.pool(f_i.extract_feat(inputs))
        z_b = f_b.head.pool(f_b.extract_feat(inputs))
        return z_i, z_b

    def classify(self, z_i: torch.Tensor, z_b: torch.Tensor,
                 detach: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
        """``C_i([z_i, z_b])`` and ``C_b([z_i, z_b])``; with ``detach``, each
        classifier's input is detached on the other encoder's half."""
        c_i = self.models['debiased'].head.fc
        c_b = self.models['biased'].head.fc
        if detach:
            return (c_i(torch.cat([z_i, z_b.detach()], dim=1)),
                    c_b(torch.cat([z_i.detach(), z_b], dim=1)))
        z = torch.cat([z_i, z_b], dim=1)
        return c_i(z), c_b(z)

    def bias_branch_loss(self, logits: torch.Tensor, labels: torch.Tensor,
                         member: Optional[torch.Tensor]
                         ) -> Optional[torch.Tensor]:
        """GCE of ``C_b`` (DisEnt), or CE over the D^A members (DisEnt+BE;
        ``None`` when no rank's batch holds one)."""
        if not self.bias_amplified:
            return generalized_ce(logits, labels, self.q,
                                  self.gce_as_coded).mean()
        if global_count(member) == 0:
            return None
        ce = F.cross_entropy(logits, labels, reduction='none')
        return masked_mean_over_ranks(ce, member)

    def swap_active(self) -> bool:
        """Whether this iteration augments (official: ``step > curr_step``)."""
        return current_iter() > self.curr_step

    def update(self, inputs: torch.Tensor, data_samples: Dict[str,
                                                              torch.Tensor],
               optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        labels, idx = data_samples['gt_label'], data_samples['sample_idx']
        f_i, f_b = self.models['debiased'], self.models['biased']
        opt_i, opt_b = optim_wrapper['debiased'], optim_wrapper['biased']
        member = None
        if self.bias_amplified:
            self.check_bias_sets()
            member = self.per_sample.get('amplified', idx)
        with opt_i.optim_context(f_i), opt_b.optim_context(f_b):
            z_i, z_b = self.features(inputs)
            pred_conflict, pred_align = self.classify(z_i, z_b)
            ce_conflict = F.cross_entropy(pred_conflict, labels,
                                          reduction='none')
            ce_align = F.cross_entropy(pred_align, labels, reduction='none')
            weight = self.relative_difficulty(idx, labels,
                                              ce_align.detach(),
                                              ce_conflict.detach())
            dis_conflict = (ce_conflict * weight).mean()
            dis_align = self.bias_branch_loss(pred_align, labels, member)
            loss_i = dis_conflict
            loss_b: List[torch.Tensor] = []
            if dis_align is not None:
                loss_b.append(self.lambda_dis_align * dis_align)
            log_vars = dict(loss_dis_conflict=dis_conflict,
                            weight_mean=weight.mean())
            if dis_align is not None:
                log_vars['loss_dis_align'] = dis_align
            swap = self.swap_active()
            if swap:
                perm = torch.from_numpy(np.random.permutation(
                    z_b.shape[0])).to(z_b.device)
                z_b_swap, labels_swap = swap_within_batch(z_b, labels, perm)
                mix_conflict, mix_align = self.classify(z_i, z_b_swap)
                swap_conflict = (F.cross_entropy(
                    mix_conflict, labels, reduction='none') * weight).mean()
                swap_align = self.bias_branch_loss(
                    mix_align, labels_swap,
                    None if member is None else member[perm])
                loss_i = loss_i + self.lambda_swap * swap_conflict
                log_vars['loss_swap_conflict'] = swap_conflict
                if swap_align is not None:
                    loss_b.append(self.lambda_swap * self.lambda_swap_align *
                                  swap_align)
                    log_vars['loss_swap_align'] = swap_align
        opt_i.update_params(loss_i)
        if loss_b:
            opt_b.update_params(sum(loss_b))
        log_vars['lambda_swap'] = torch.tensor(self.lambda_swap if swap else
                                               0.0)
        return log_vars

    # ------------------------------------------------------------------ #
    def cam_views(self, inputs: torch.Tensor):
        """Each classifier explained on its own encoder's map, the other
        encoder's pooled feature held fixed: ``C_i([GAP(z), z_b])`` of
        ``E_i``'s map and ``C_b([z_i, GAP(z)])`` of ``E_b``'s."""
        f_i, f_b = self.models['debiased'], self.models['biased']
        map_i, map_b = f_i.extract_feat(inputs), f_b.extract_feat(inputs)
        z_i, z_b = f_i.head.pool(map_i).detach(), f_b.head.pool(
            map_b).detach()
        return dict(
            debiased=(map_i, lambda z: f_i.head.fc(
                torch.cat([f_i.head.pool(z), z_b], dim=1))),
            biased=(map_b, lambda z: f_b.head.fc(
                torch.cat([z_i, f_b.head.pool(z)], dim=1))))

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor,
                data_samples: Dict[str, torch.Tensor]) -> List[dict]:
        """As :meth:`BaseDebiasAlgorithm.predict`, with both classifiers on
        ``[z_i, z_b]`` (official ``evaluate_disent``)."""
        z_i, z_b = self.features(inputs)
        logits_i, logits_b = self.classify(z_i, z_b, detach=False)
        return self.pack_predictions(
            data_samples, dict(debiased=logits_i, biased=logits_b))

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[Dict[str, torch.Tensor]] = None,
                mode: str = 'tensor'):
        if mode == 'tensor':
            return self.classify(*self.features(inputs), detach=False)[0]
        return super().forward(inputs, data_samples, mode)
