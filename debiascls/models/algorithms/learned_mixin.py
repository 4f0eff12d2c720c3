"""LearnedMixin+H (Clark, Yatskar and Zettlemoyer, EMNLP 2019) with a
biased-by-design model, as ReBias compares against it."""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapperDict
from torch import nn

from debiascls.models.algorithms.rebias import BiasedByDesignAlgorithm
from debiascls.registry import MODELS


@MODELS.register_module()
class LearnedMixin(BiasedByDesignAlgorithm):
    """Learned-Mixin +H, as its paper defines it (Clark et al. 2019, §3.2.4
    and §3.2.5), with ReBias's protocol for the bias model ``g``:

    - until ``pretrain_iters`` (phase ``main`` off) only ``g`` trains, with
      CE (ReBias appendix: G pre-trained for 5 epochs on Biased MNIST, 30 on
      ImageNet and action recognition); then ``g`` is frozen (weights and
      batch-norm statistics);
    - then ``f`` trains on the ensemble ``log p_f(x) + s(x) log b(x)``:
      ``L = CE(softmax(log_softmax(f(x)) + s(x) log_softmax(g(x))), y)
      + w H(softmax(s(x) log_softmax(g(x))))``, where the gate
      ``s(x) = softplus(v . h_f(x))`` is learned from ``f``'s pooled
      features ``h_f`` (Clark et al. §3.2.4: a learned vector, no bias) and
      ``H`` is the entropy (the "+H" penalty of §3.2.5, weight ``w``, 0.36
      in ReBias's code);
    - at test time ``f`` alone predicts.

    Where ReBias's code differs, we follow the paper and say so: the code
    mixes ``g``'s raw logits (not log-probabilities) and never gives the
    gate to an optimizer (it stays at its random initialisation); here the
    gate is a submodule of ``f`` (``f.mixin_gate``), so ``f``'s optimizer
    trains it.

    Args:
        classifier: Config of ``f``.
        biased_classifiers: Config of ``g`` (one model).
        pretrain_iters: Iterations of ``g``'s pre-training.
        pretrain_epochs: Its length in epochs of the training loader
            instead (ReBias: 5 on Biased MNIST, 30 on ImageNet and action).
        entropy_weight: ``w`` of the entropy penalty.
    """

    phase_names = ('main', )

    def __init__(self,
                 classifier: dict,
                 biased_classifiers: Union[dict, Sequence[dict]],
                 pretrain_iters: Optional[int] = None,
                 pretrain_epochs: Optional[int] = None,
                 entropy_weight: float = 0.36,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(classifier, biased_classifiers, data_preprocessor,
                         init_cfg)
        if len(self.g_names) != 1:
            raise ValueError('LearnedMixin mixes one bias model; give one '
                             'biased classifier.')
        if (pretrain_iters is None) == (pretrain_epochs is None):
            raise ValueError('LearnedMixin: give exactly one of '
                             'pretrain_iters and pretrain_epochs (how long G '
                             'is pre-trained before f).')
        length = pretrain_iters if pretrain_epochs is None else pretrain_epochs
        if int(length) != length or length < 0:
            raise ValueError(f'LearnedMixin: the pre-training length {length!r}'
                             ' must be a non-negative integer.')
        self.pretrain_epochs = pretrain_epochs
        self.entropy_weight = float(entropy_weight)
        width = self.models['f'].head.in_channels
        # The gate is part of f's model so that f's optimizer trains it.
        self.models['f'].add_module('mixin_gate',
                                    nn.Linear(width, 1, bias=False))
        self.phase_begins = dict(main=int(pretrain_iters or 0))

    def prepare_schedule(self, max_iters: int, iters_per_epoch: int) -> None:
        """Turn ``pretrain_epochs`` into the first iteration of phase
        ``main``."""
        if self.pretrain_epochs is not None:
            self.phase_begins = dict(
                main=int(self.pretrain_epochs) * int(iters_per_epoch))
        super().prepare_schedule(max_iters, iters_per_epoch)

    def mixin_loss(self, logits_f: torch.Tensor, feats_f: torch.Tensor,
                   logits_g: torch.Tensor,
                   labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Clark et al. Eqs. for Learned-Mixin +H; returns the CE of the
        ensemble, the entropy penalty and the mean gate."""
        gate = F.softplus(self.models['f'].mixin_gate(feats_f))  # (B, 1)
        scaled_bias = gate * F.log_softmax(logits_g, dim=1)
        ensemble = F.log_softmax(logits_f, dim=1) + scaled_bias
        ce = F.cross_entropy(ensemble, labels)
        p_bias = F.softmax(scaled_bias, dim=1)
        entropy = -(p_bias * F.log_softmax(scaled_bias, dim=1)).sum(1).mean()
        return dict(ce=ce, entropy=entropy, gate=gate.mean())

    def update(self, inputs: torch.Tensor, data_samples: Dict[str,
                                                              torch.Tensor],
               optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        labels = data_samples['gt_label']
        g = self.models['g']
        if not self.phase_on('main'):
            opt_g = optim_wrapper['g']
            with opt_g.optim_context(g):
                loss = F.cross_entropy(g(inputs), labels)
            opt_g.update_params(loss)
            return dict(loss_g=loss, **self.phase_log_vars())
        g.eval()  # frozen: no batch-norm updates either
        with torch.no_grad():
            logits_g = g(inputs)
        f, opt_f = self.models['f'], optim_wrapper['f']
        with opt_f.optim_context(f):
            maps = f.extract_feat(inputs)
            feats = f.head.pool(maps)
            terms = self.mixin_loss(f.head(maps), feats, logits_g, labels)
            loss = terms['ce'] + self.entropy_weight * terms['entropy']
        opt_f.update_params(loss)
        return dict(loss_f=loss, loss_mixin_ce=terms['ce'],
                    entropy=terms['entropy'], gate=terms['gate'],
                    **self.phase_log_vars())

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.phase_on('main'):
            self.models['g'].eval()
        return self
