"""ReBias (Bahng et al., ICML 2020): learning de-biased representations
with biased representations, by HSIC min-max."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapperDict
from torch import nn

from debiascls.models.algorithms.base import BaseDebiasAlgorithm
from debiascls.models.losses.hsic import RbfHSIC
from debiascls.registry import MODELS

#: Where HSIC reads a model's representation.
REPRESENTATIONS = ('features', 'logits')


def g_names(biased_classifiers: Union[dict, Sequence[dict]]) -> List[str]:
    """Model names of the biased-by-design models: ``g`` for one, ``g0``,
    ``g1``, ... for several."""
    configs = as_list(biased_classifiers)
    return ['g'] if len(configs) == 1 else [
        f'g{i}' for i in range(len(configs))
    ]


def as_list(biased_classifiers: Union[dict, Sequence[dict]]) -> List[dict]:
    if isinstance(biased_classifiers, dict):
        return [biased_classifiers]
    configs = list(biased_classifiers)
    if not configs:
        raise ValueError('biased_classifiers is empty: give at least one '
                         'biased-by-design classifier (the set G).')
    return configs


class BiasedByDesignAlgorithm(BaseDebiasAlgorithm):
    """A main model ``f`` (the one evaluated as the algorithm's) and a set
    G of biased-by-design models (named ``g``, or ``g0``, ``g1``, ...), the
    shape shared by ReBias, LearnedMixin+H and RUBi.

    Args:
        classifier: Config of ``f`` (ReBias's F).
        biased_classifiers: One config, or a list of them, for G.
    """

    main_model = 'f'

    def __init__(self,
                 classifier: dict,
                 biased_classifiers: Union[dict, Sequence[dict]],
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        models = dict(f=classifier)
        models.update(
            zip(g_names(biased_classifiers), as_list(biased_classifiers)))
        super().__init__(
            models=models, data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.g_names = g_names(biased_classifiers)

    def representation(self, name: str, inputs: torch.Tensor, on: str
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(representation, logits)`` of model ``name``: the globally
        pooled feature map (``on='features'``, ReBias's "GAP features") or
        the logits (``on='logits'``)."""
        model = self.models[name]
        feats = model.extract_feat(inputs)
        logits = model.head(feats)
        if on == 'logits':
            return logits, logits
        return model.head.pool(feats), logits


@MODELS.register_module()
class ReBias(BiasedByDesignAlgorithm):
    """ReBias's min-max (its Eq. 3 and Algorithm 1)

    ``min_f max_{g in G} L(f) + lambda HSIC_1(f, g) - lambda_g L(g)``

    solved by alternating updates on every batch, in the official code's
    order (``trainer.py``: ``_update_g`` then ``_update_f``):

    1. every ``g`` in G descends ``L(g) - lambda_g HSIC_1(f, g)`` (``f``
       fixed), i.e. learns the target while staying as dependent on ``f``
       as it can;
    2. ``f`` descends ``L(f) + lambda HSIC_1(f, G)`` (G fixed), with
       ``HSIC_1(f, G) = max_g HSIC_1(f, g)`` (Eq. 1; ``aggregate='sum'``
       sums over G as the official code does; the two agree for one ``g``).

    ``L`` is the cross-entropy and HSIC_1 the unbiased estimator with RBF
    kernels (:class:`~debiascls.models.losses.RbfHSIC`, Eq. A3) on the
    representations of :meth:`representation` (``hsic_on='features'``: the
    GAP features; ``'logits'`` for action recognition, as the paper's
    appendix says; its code uses features there). The kernel radii are
    buffers of this module, so checkpoints carry them: fixed (Biased MNIST:
    1) or set every epoch by
    :class:`~debiascls.engine.hooks.KernelRadiusHook` (median heuristic).
    With data parallelism HSIC is estimated on each rank's batch and the
    gradients are averaged (the official code's DataParallel estimates it
    on the whole batch).

    Logged every step: ``hsic/<g>`` (HSIC_1(f, g) at ``f``'s update),
    ``loss_f`` and ``loss_<g>`` (cross-entropies), ``loss_f_total``,
    ``loss_<g>_total`` and the radii ``sigma_f``, ``sigma_<g>``; enough to
    draw the paper's Figure 4 (unbiased accuracy against HSIC) from a run.

    Args:
        classifier: Config of ``f``.
        biased_classifiers: One config, or a list, for G.
        lambda_f: ``lambda`` (1).
        lambda_g: ``lambda_g`` (1).
        sigma_f, sigma_g: Initial RBF radii of ``f``'s and every ``g``'s
            representation (1; ``sigma_g`` may be a list, one per ``g``).
        hsic_on: 'features' or 'logits'.
        aggregate: 'max' (Eq. 1) or 'sum' (official code) over G.
        g_steps: Updates of G per batch (official ``n_g_update`` = 1).
    """

    def __init__(self,
                 classifier: dict,
                 biased_classifiers: Union[dict, Sequence[dict]],
                 lambda_f: float = 1.0,
                 lambda_g: float = 1.0,
                 sigma_f: float = 1.0,
                 sigma_g: Union[float, Sequence[float]] = 1.0,
                 hsic_on: str = 'features',
                 aggregate: str = 'max',
                 g_steps: int = 1,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(classifier, biased_classifiers, data_preprocessor,
                         init_cfg)
        for key, value, allowed in (('hsic_on', hsic_on, REPRESENTATIONS),
                                    ('aggregate', aggregate, ('max', 'sum'))):
            if value not in allowed:
                raise ValueError(f'ReBias: {key}="{value}" is not one of '
                                 f'{allowed}.')
        if g_steps < 1:
            raise ValueError(f'ReBias: g_steps={g_steps} must be >= 1.')
        self.lambda_f = float(lambda_f)
        self.lambda_g = float(lambda_g)
        self.hsic_on = hsic_on
        self.aggregate = aggregate
        self.g_steps = int(g_steps)
        #: Radii (sigma_f, sigma_g for each g in order), checkpointed.
        self.register_buffer(
            'kernel_radii', torch.ones(1 + len(self.g_names),
                                       dtype=torch.float64))
        #: Whether KernelRadiusHook has set the radii (so a resumed run
        #: keeps the checkpointed ones instead of recomputing them).
        self.register_buffer('kernel_radii_set', torch.tensor(False))
        self.set_kernel_radii(sigma_f, sigma_g, from_hook=False)

    def set_kernel_radii(self, sigma_f: float,
                         sigma_g: Union[float, Sequence[float]],
                         from_hook: bool = True) -> None:
        """Set the RBF radii (``sigma_g``: one value for every ``g``, or one
        per ``g``)."""
        sigmas = (list(sigma_g) if isinstance(sigma_g, (list, tuple)) else
                  [sigma_g] * len(self.g_names))
        if len(sigmas) != len(self.g_names):
            raise ValueError(f'ReBias: {len(sigmas)} radii for the '
                             f'{len(self.g_names)} models of G.')
        values = [float(sigma_f)] + [float(s) for s in sigmas]
        if not all(v > 0 for v in values):
            raise ValueError(f'ReBias: kernel radii must be positive, got '
                             f'{values}.')
        self.kernel_radii.copy_(torch.tensor(values, dtype=torch.float64))
        if from_hook:
            self.kernel_radii_set.fill_(True)

    def radius(self, name: str) -> float:
        """The RBF radius of model ``name``'s representation."""
        index = 0 if name == 'f' else 1 + self.g_names.index(name)
        return float(self.kernel_radii[index])

    def hsic(self, rep_f: torch.Tensor, rep_g: torch.Tensor,
             name: str) -> torch.Tensor:
        """HSIC_1(f, g) with the current radii."""
        return RbfHSIC(self.radius('f'), self.radius(name))(rep_f, rep_g)

    def update(self, inputs: torch.Tensor, data_samples: Dict[str,
                                                              torch.Tensor],
               optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        labels = data_samples['gt_label']
        if labels.numel() < 4:
            raise ValueError(
                f'ReBias: HSIC_1 needs at least 4 samples per batch and rank, '
                f'got {labels.numel()}; raise train_dataloader.batch_size.')
        log_vars: Dict[str, torch.Tensor] = {}
        # 1. Every g on L(g) - lambda_g HSIC_1(f, g), f fixed. f is run
        # without gradients; in train mode, so its batch-norm statistics
        # move as in the official code (which runs it with gradients that
        # g's optimizer discards).
        for _ in range(self.g_steps):
            with torch.no_grad():
                rep_f, _ = self.representation('f', inputs, self.hsic_on)
            for name in self.g_names:
                g, opt = self.models[name], optim_wrapper[name]
                with opt.optim_context(g):
                    rep_g, logits_g = self.representation(
                        name, inputs, self.hsic_on)
                    ce_g = F.cross_entropy(logits_g, labels)
                    loss_g = ce_g - self.lambda_g * self.hsic(
                        rep_f, rep_g, name)
                opt.update_params(loss_g)
                log_vars[f'loss_{name}'] = ce_g
                log_vars[f'loss_{name}_total'] = loss_g
        # 2. f on L(f) + lambda HSIC_1(f, G), G fixed.
        opt_f = optim_wrapper['f']
        with opt_f.optim_context(self.models['f']):
            rep_f, logits_f = self.representation('f', inputs, self.hsic_on)
            ce_f = F.cross_entropy(logits_f, labels)
            with torch.no_grad():
                reps_g = [
                    self.representation(n, inputs, self.hsic_on)[0]
                    for n in self.g_names
                ]
            hsics = torch.stack([
                self.hsic(rep_f, rep_g, n)
                for n, rep_g in zip(self.g_names, reps_g)
            ])
            hsic = hsics.max() if self.aggregate == 'max' else hsics.sum()
            loss_f = ce_f + self.lambda_f * hsic
        opt_f.update_params(loss_f)
        log_vars.update(loss_f=ce_f, loss_f_total=loss_f)
        for name, value in zip(self.g_names, hsics):
            log_vars[f'hsic/{name}'] = value
        log_vars['sigma_f'] = self.kernel_radii[0].float()
        for i, name in enumerate(self.g_names):
            log_vars[f'sigma_{name}'] = self.kernel_radii[1 + i].float()
        return log_vars
