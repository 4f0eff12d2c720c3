"""CosFairNet (Ahmad et al., BMVC 2024): parameter-space realignment of the
debiased model with the biased one."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapperDict
from torch import nn

from debiascls.models.algorithms.lff import LfF
from debiascls.registry import MODELS

#: Forms of the dissimilarity loss of a later layer, given S = cos.
DISSIM_FORMS = ('cos', 'abs', 'square')
#: Which loss goes to which layer group.
SIGN_CONVENTIONS = ('text', 'supplementary')
#: Which optimizer takes the second update's steps.
REALIGN_OPTIMIZERS = ('shared', 'separate')


def layer_vector(module: nn.Module, include_bias: bool = True) -> torch.Tensor:
    """The flattened parameters of one layer (weight, and bias if asked):
    the vector whose direction CosFairNet compares (its Eq. 1)."""
    params = [
        p for name, p in module.named_parameters(recurse=False)
        if include_bias or name != 'bias'
    ]
    if not params:
        raise ValueError(f'CosFairNet: layer {type(module).__name__} has no '
                         'parameters of its own; name a Linear or Conv '
                         'layer.')
    return torch.cat([p.flatten() for p in params])


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Eq. (1): ``S = a . b / (||a|| ||b||)`` (both on the unit sphere)."""
    return F.cosine_similarity(a, b, dim=0)


@MODELS.register_module()
class CosFairNet(LfF):
    """Two models as in LfF (``f_b`` with GCE, ``f_d`` with ``W(x) * CE``),
    then, in the same step and on the same batch, a second update of ``f_d``
    only (§4.2): for every configured layer ``k`` of ``f_d``, one update of
    that layer alone, driven by the cosine ``S_k`` between its flattened
    parameters and those of the same layer of ``f_b`` (Eq. 1; ``f_b``'s are
    constants):

    - a *similarity* layer (the "initial layers") descends on
      ``lambda_sim * (1 - S_k)``;
    - a *dissimilarity* layer ("later-stage layers") descends on
      ``lambda_dissim * D(S_k)`` with ``D = S`` (``dissim_form='cos'``:
      pushes the directions apart), ``|S|`` or ``S^2`` (``'abs'``,
      ``'square'``: the "orthogonality constraint" reading).

    During each of these updates every other parameter of ``f_d`` has no
    gradient, so the optimizer (Adam included) neither moves it nor touches
    its moment estimates: the paper's "all layers must be frozen during the
    second update except the layer to be updated" (§4.2). ``f_b`` is not
    changed.

    The supplementary Algorithm 1 has the signs the other way round (it
    descends on ``S`` for the initial layer and on ``lambda_c (1 - S)`` for
    the others, see docs/methods/cosfairnet.md); we follow the text, and
    ``sign_convention='supplementary'`` swaps the two losses (the weights
    stay with their layer groups).

    The paper does not say which optimizer takes these steps; its remark
    that the optimizer's momentum would move the other layers suggests
    ``f_d``'s own (Adam), which ``realign_optimizer='shared'`` (default)
    uses: its moment estimates then mix both updates' gradients of a
    layer, so the loss weights set the cosine gradient's share against the
    layer's CE gradients (and once those fade, Adam's per-parameter
    normalisation lets the cosine drive the layer to ``S = ±1``).
    ``'separate'`` gives the configured layers an optimizer wrapper of
    their own, ``optim_wrapper['realign']`` (its own state; configure it
    with ``optim_wrapper.per_model.realign``, e.g. plain SGD, under which
    ``lambda_sim``/``lambda_dissim`` scale the step).

    ``W(x)`` is LfF's relative difficulty with per-sample EMAs and class-wise
    normalisation (``difficulty='lff'``, :meth:`LfF.relative_difficulty`);
    the paper writes it on the raw per-batch losses, ``CE_b / (CE_b +
    CE_d)``, which ``difficulty='raw'`` gives.

    Args:
        classifier, biased_classifier, q, ema_alpha, gce_as_coded: As in
            :class:`LfF`.
        similar_layers: Module names (in the classifier, e.g.
            ``'backbone.layers.0'``) of the similarity layers.
        dissimilar_layers: Module names of the dissimilarity layers.
        lambda_sim: Weight of the similarity loss (1: the supplementary has
            no weight there).
        lambda_dissim: ``lambda_c``, the weight of the dissimilarity loss
            (tuned per data set and ratio in the paper).
        dissim_form: 'cos', 'abs' or 'square'.
        sign_convention: 'text' or 'supplementary'.
        include_bias: Compare weights and biases (True) or weights only.
        difficulty: 'lff' or 'raw'.
        realign_optimizer: 'shared' (``f_d``'s optimizer) or 'separate'
            (``optim_wrapper['realign']``).
    """

    def __init__(self,
                 classifier: dict,
                 biased_classifier: Optional[dict] = None,
                 similar_layers: Sequence[str] = (),
                 dissimilar_layers: Sequence[str] = (),
                 lambda_sim: float = 1.0,
                 lambda_dissim: float = 0.1,
                 dissim_form: str = 'cos',
                 sign_convention: str = 'text',
                 include_bias: bool = True,
                 difficulty: str = 'lff',
                 realign_optimizer: str = 'shared',
                 q: float = 0.7,
                 ema_alpha: float = 0.7,
                 gce_as_coded: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            classifier=classifier,
            biased_classifier=biased_classifier,
            q=q,
            ema_alpha=ema_alpha,
            gce_as_coded=gce_as_coded,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        for key, value, allowed in (
            ('dissim_form', dissim_form, DISSIM_FORMS),
            ('sign_convention', sign_convention, SIGN_CONVENTIONS),
            ('difficulty', difficulty, ('lff', 'raw')),
            ('realign_optimizer', realign_optimizer, REALIGN_OPTIMIZERS)):
            if value not in allowed:
                raise ValueError(f'CosFairNet: {key}="{value}" is not one of '
                                 f'{allowed}.')
        overlap = set(similar_layers) & set(dissimilar_layers)
        if overlap:
            raise ValueError(f'CosFairNet: layers {sorted(overlap)} are both '
                             'similar and dissimilar layers.')
        self.layers: List[tuple] = [(name, 'sim')
                                    for name in similar_layers] + [
                                        (name, 'dissim')
                                        for name in dissimilar_layers
                                    ]
        modules_d = dict(self.models['debiased'].named_modules())
        modules_b = dict(self.models['biased'].named_modules())
        for name, _ in self.layers:
            if name not in modules_d or name not in modules_b:
                raise KeyError(
                    f'CosFairNet: no layer "{name}" in the classifier; '
                    'layers with parameters: '
                    f'{[n for n, m in modules_d.items() if n and any(True for _ in m.parameters(recurse=False))]}.')
            layer_vector(modules_d[name], include_bias)
            if (layer_vector(modules_d[name], include_bias).shape !=
                    layer_vector(modules_b[name], include_bias).shape):
                raise ValueError(f'CosFairNet: layer "{name}" has different '
                                 'shapes in the biased and debiased models.')
        self.lambda_sim = lambda_sim
        self.lambda_dissim = lambda_dissim
        self.dissim_form = dissim_form
        self.sign_convention = sign_convention
        self.include_bias = include_bias
        self.difficulty = difficulty
        self.realign_optimizer = realign_optimizer

    def extra_optim_modules(self) -> Dict[str, nn.Module]:
        """``realign``: the configured layers of ``f_d``, when the second
        update has an optimizer of its own."""
        if self.realign_optimizer != 'separate':
            return {}
        modules_d = dict(self.models['debiased'].named_modules())
        # a view, not a submodule: built on demand, never assigned to self
        return dict(realign=nn.ModuleList(
            [modules_d[name] for name, _ in self.layers]))

    def layer_loss(self, cos: torch.Tensor, group: str) -> torch.Tensor:
        """The realignment loss of one layer from its cosine ``S``."""
        if self.sign_convention == 'supplementary':
            # supplementary Algorithm 1: S on the initial layers,
            # lambda_c (1 - S) on the later ones
            weight = self.lambda_sim if group == 'sim' else self.lambda_dissim
            return weight * (cos if group == 'sim' else 1 - cos)
        if group == 'sim':
            return self.lambda_sim * (1 - cos)
        dissim = dict(cos=cos, abs=cos.abs(), square=cos.pow(2))
        return self.lambda_dissim * dissim[self.dissim_form]

    def realign(self, optim_wrapper: OptimWrapperDict
                ) -> Dict[str, torch.Tensor]:
        """The second update: one optimizer step per configured layer, with
        gradients on that layer only (``f_d``'s optimizer, or the separate
        ``realign`` one)."""
        f_d, f_b = self.models['debiased'], self.models['biased']
        if self.realign_optimizer == 'separate':
            if 'realign' not in optim_wrapper:
                raise KeyError(
                    "CosFairNet(realign_optimizer='separate') needs "
                    "optim_wrapper['realign']; build the optimizers with "
                    'MultiModelOptimWrapperConstructor, which adds it.')
            opt_d = optim_wrapper['realign']
        else:
            opt_d = optim_wrapper['debiased']
        modules_d = dict(f_d.named_modules())
        modules_b = dict(f_b.named_modules())
        log_vars: Dict[str, torch.Tensor] = {}
        for name, group in self.layers:
            opt_d.zero_grad()
            with opt_d.optim_context(f_d):
                target = layer_vector(modules_b[name],
                                      self.include_bias).detach()
                cos = cosine(
                    layer_vector(modules_d[name], self.include_bias), target)
                loss = self.layer_loss(cos, group)
            opt_d.update_params(loss)
            log_vars[f'cos/{name}'] = cos.detach()
            log_vars[f'loss_{group}/{name}'] = loss.detach()
        return log_vars

    def relative_difficulty(self, idx, labels, ce_b, ce_d):
        if self.difficulty == 'lff':
            return super().relative_difficulty(idx, labels, ce_b, ce_d)
        # CosFairNet §4.1 as written: W = CE_b / (CE_b + CE_d) per batch
        return (ce_b / (ce_b + ce_d + 1e-8)).detach()

    def update(self, inputs: torch.Tensor, data_samples: Dict[str,
                                                              torch.Tensor],
               optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        log_vars = super().update(inputs, data_samples, optim_wrapper)
        log_vars.update(self.realign(optim_wrapper))
        return log_vars
