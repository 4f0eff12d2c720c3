"""RUBi (Cadene et al., NeurIPS 2019) with a biased-by-design model, as
ReBias compares against it."""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapperDict
from torch import nn

from debiascls.models.algorithms.rebias import BiasedByDesignAlgorithm
from debiascls.registry import MODELS


@MODELS.register_module()
class RUBi(BiasedByDesignAlgorithm):
    """RUBi's learning strategy (Cadene et al. 2019, §3.2) with the
    biased-by-design model ``g`` as its bias-only branch, trained jointly
    with ``f`` (ReBias §4: G is not pre-trained for RUBi).

    RUBi's question-only branch maps to ``g`` as follows: ``g``'s backbone
    is the encoder ``e_q``, ``g``'s head the branch ``nn_q`` whose logits
    ``g(x)`` give the mask, and ``c_q`` a linear classifier on them (a
    module of ``g``, trained by ``g``'s optimizer):

    - ``L_QM = CE(f(x) * sigmoid(g(x)), y)`` (the masked logits, Eq. 3),
      back-propagated into ``f`` and the whole of ``g``;
    - ``L_QO = CE(c_q(g(x)), y)`` (Eq. 4), back-propagated into ``c_q`` and
      ``nn_q`` but not into the encoder (the paper stops it there "to
      prevent it from directly learning the biases");
    - one backward pass of ``L_QM + qo_weight * L_QO``, then each model's
      optimizer steps; at test time ``f`` alone predicts.

    ReBias's code differs (we follow RUBi's paper): its mask comes from a
    linear layer on ``g``'s features that no optimizer ever updates, ``g``
    gets no gradient from either loss, and ``g`` trains on its own CE.

    Args:
        classifier: Config of ``f``.
        biased_classifiers: Config of ``g`` (one model).
        qo_weight: Weight of ``L_QO`` (1 in the paper).
    """

    def __init__(self,
                 classifier: dict,
                 biased_classifiers: Union[dict, Sequence[dict]],
                 qo_weight: float = 1.0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(classifier, biased_classifiers, data_preprocessor,
                         init_cfg)
        if len(self.g_names) != 1:
            raise ValueError('RUBi has one bias-only branch; give one '
                             'biased classifier.')
        num_classes = self.models['g'].num_classes
        # c_q lives in g's model, so that g's optimizer trains it.
        self.models['g'].add_module('rubi_classifier',
                                    nn.Linear(num_classes, num_classes))
        self.qo_weight = float(qo_weight)

    def rubi_losses(self, logits_f: torch.Tensor, feats_g: torch.Tensor,
                    labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``L_QM`` and ``L_QO`` (RUBi Eqs. 3-4) from ``f``'s logits and
        ``g``'s feature map (before its head)."""
        g = self.models['g']
        masked = logits_f * torch.sigmoid(g.head(feats_g))
        question_only = g.rubi_classifier(g.head(feats_g.detach()))
        return dict(
            qm=F.cross_entropy(masked, labels),
            qo=F.cross_entropy(question_only, labels))

    def update(self, inputs: torch.Tensor, data_samples: Dict[str,
                                                              torch.Tensor],
               optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        labels = data_samples['gt_label']
        f, g = self.models['f'], self.models['g']
        opt_f, opt_g = optim_wrapper['f'], optim_wrapper['g']
        with opt_f.optim_context(f), opt_g.optim_context(g):
            losses = self.rubi_losses(f(inputs), g.extract_feat(inputs),
                                      labels)
            loss = losses['qm'] + self.qo_weight * losses['qo']
        opt_f.backward(loss)
        opt_f.step()
        opt_g.step()
        opt_f.zero_grad()
        opt_g.zero_grad()
        return dict(loss=loss, loss_qm=losses['qm'], loss_qo=losses['qo'])
