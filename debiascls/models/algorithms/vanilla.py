"""Vanilla: empirical risk minimisation."""
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapperDict

from debiascls.models.algorithms.base import BaseDebiasAlgorithm
from debiascls.registry import MODELS


@MODELS.register_module()
class Vanilla(BaseDebiasAlgorithm):
    """ERM: one classifier trained with the mean cross-entropy,
    ``L = 1/B sum_i CE(f(x_i), y_i)``.

    Args:
        classifier: Config of the classifier (see :class:`ImageClassifier`).
        data_preprocessor, init_cfg: See :class:`BaseDebiasAlgorithm`.
    """

    main_model = 'classifier'

    def __init__(self,
                 classifier: dict,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            models=dict(classifier=classifier),
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)

    def update(self, inputs: torch.Tensor, data_samples: Dict[str,
                                                              torch.Tensor],
               optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        model = self.models['classifier']
        wrapper = optim_wrapper['classifier']
        with wrapper.optim_context(model):
            loss = F.cross_entropy(model(inputs), data_samples['gt_label'])
        wrapper.update_params(loss)
        return {'loss': loss}
