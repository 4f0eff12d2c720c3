"""IE: intrinsic feature enhancement with bias-contrastive pairs (Park,
Chung and Choo, CVPR 2024), on top of LfF+BE."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapperDict

from debiascls.models.algorithms.base import current_iter
from debiascls.models.algorithms.lff import LfF
from debiascls.models.heads import GAPLinearHead
from debiascls.models.utils import gap_linear_grad_cam, grad_cam
from debiascls.registry import MODELS

#: Where x^BN is drawn from: IE's D^BN (Eq. 3), or the ablations of its
#: Table 3 (D_cand^BN, the whole training set D).
BN_SOURCES = ('bn', 'candidate', 'all')


def common_feature_score(z: torch.Tensor, z_bn: torch.Tensor
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
    """IE Eq. (4): ``c(z)_n = (z^BN_{i*} . z_n) / max_{i,j}(z^BN_i . z_j)``
    with ``i*(n) = argmax_i z^BN_i . z_n`` (dot products over channels).

    Args:
        z, z_bn: (B, C, h, w) feature maps of x and of its pair x^BN.

    Returns:
        ``c`` (B, h, w) and ``i*`` (B, h*w), the flat position in ``z_bn``
        matched to each position of ``z``. A pair whose dot products are all
        <= 0 (e.g. an all-zero map) gets ``c = 0``.
    """
    b, _, h, w = z.shape
    z_flat = z.flatten(2).transpose(1, 2)  # (B, n, C)
    bn_flat = z_bn.flatten(2)  # (B, C, m)
    sim = torch.bmm(z_flat, bn_flat)  # (B, n, m): z_n . z^BN_i
    best, i_star = sim.max(dim=2)
    peak = sim.flatten(1).amax(dim=1, keepdim=True)
    c = torch.where(peak > 0, best / peak.clamp_min(1e-12),
                    torch.zeros_like(best))
    return c.view(b, h, w), i_star


def relative_exploitation_score(e_z: torch.Tensor, e_bn: torch.Tensor,
                                i_star: torch.Tensor,
                                tau: float) -> torch.Tensor:
    """IE Eq. (5): ``r(z)_n = (2 E(z^BN)_{i*} / (E(z^BN)_{i*} + E(z)_n))^tau``.

    ``r > 1`` where ``z_n`` is less exploited for the prediction than its
    match in ``z^BN``; ``r -> 0`` where the match is not used at all. Where
    both maps are 0 the ratio is 0/0; we return 0 (no enhancement).

    Args:
        e_z, e_bn: (B, h, w) max-normalised Grad-CAM maps of z and z^BN
            for the ground-truth class.
        i_star: (B, h*w) from :func:`common_feature_score`.
        tau: The amplification factor.
    """
    b, h, w = e_z.shape
    matched = e_bn.flatten(1).gather(1, i_star)  # E(z^BN)_{i*(n)}
    denom = matched + e_z.flatten(1)
    ratio = torch.where(denom > 0, 2 * matched / denom.clamp_min(1e-12),
                        torch.zeros_like(denom))
    return ratio.pow(tau).view(b, h, w)


def _draw_same_class(members: torch.Tensor, gt: torch.Tensor,
                     labels: torch.Tensor) -> torch.Tensor:
    """For each label, a member of ``members`` (bool mask over the training
    set) with that class, uniformly at random (torch's global generator);
    -1 where the class has no member. One pass over the mask for the whole
    batch: members grouped by class, a uniform position in the group."""
    pool = members.nonzero(as_tuple=True)[0]
    if pool.numel() == 0 or labels.numel() == 0:
        return torch.full_like(labels, -1)
    cls = gt[pool]
    pool = pool[torch.argsort(cls, stable=True)]
    num_classes = int(max(int(gt.max()), int(labels.max())) + 1)
    counts = torch.bincount(cls, minlength=num_classes)
    starts = torch.cumsum(counts, 0) - counts
    n = counts[labels]
    offset = (torch.rand(labels.shape, dtype=torch.float64,
                         device=labels.device) * n).long()
    pick = starts[labels] + torch.minimum(offset, (n - 1).clamp_min(0))
    return torch.where(n > 0, pool[pick.clamp_max(pool.numel() - 1)], -1)


def ie_weight(c: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """IE Eq. (6): ``IE(z)_n = max(c(z)_n * r(z)_n, 1)``."""
    return (c * r).clamp_min(1.0)


def linear_ramp(iteration: int, begin: int, end: int, start_value: float,
                end_value: float) -> float:
    """``start_value`` up to ``begin``, ``end_value`` from ``end`` on, and
    linear in between."""
    if iteration <= begin or end <= begin:
        return start_value if iteration <= begin else end_value
    progress = min((iteration - begin) / (end - begin), 1.0)
    return start_value + (end_value - start_value) * progress


@MODELS.register_module()
class IE(LfF):
    """Debiasing with intrinsic feature guidance (IE, CVPR 2024,
    Algorithm 1), on the LfF+BE backbone (its §3.1).

    Per iteration t, with x from D:

    - ``f_b`` is trained with CE on the members of D^A in the batch, and
      ``w(x)`` comes from LfF's EMAs (:class:`LfF` with
      ``bias_amplified=True``).
    - BN score (:meth:`update_per_sample_scores`, at the end of each step):
      Eq. (1)
      ``l_t = alpha_l * CE(f_b(x), y) + (1 - alpha_l) * l_{t-1}``; from T1
      on, the reference ``l_ref(x) <- l(x)`` of samples not yet initialised
      (Algorithm 1, lines 4-6); Eq. (2) ``s_t = alpha_s * (l_t - l_ref) +
      (1 - alpha_s) * s_{t-1}``. All only for the batch's samples.
    - Before T2, ``f_d`` is trained with L_main (Eq. 8) only. From T2 on,
      D^BN_t = {x in D_cand^BN : s_t(x) > 0} (Eq. 3), and for every x a pair
      x^BN of the same class is drawn uniformly from D^BN_t. With
      ``z = f_d^emb(x)``, ``z^BN = f_d^emb(x^BN)``: c(z) (Eq. 4), r(z)
      (Eq. 5) from Grad-CAM maps E w.r.t. the ground-truth labels, IE(z)
      (Eq. 6), guidance g(z) = z * IE(z) (Eq. 7), and ``f_d`` minimises
      L_total = lambda_main * L_main + L_guide + L_BN (Eq. 13) with
      L_guide = lambda_sim * L_guide_sim (Eq. 9) + L_guide_cls (Eq. 10) and
      L_BN (Eq. 12). ``lambda_main`` ramps linearly from 0 at T2 to 1 at
      the last iteration (:meth:`lambda_main`: "linearly increases from
      zero to one during training f_d with the guidance").

    T1 and T2 (Algorithm 1's inputs, ``t1``/``t2``) are the first
    iterations of the phases ``bn_reference`` and ``guidance``, each on from
    its first iteration to the end (read from the iteration itself).

    IE's code and supplementary are not public; what the paper leaves open
    is a keyword here, with the defaults argued in docs/methods/ie.md:

    - ``alpha_l`` (default 0.3: the same smoothing as LfF's EMA, 0.7 on the
      old value) and ``alpha_s`` (0.1); the first visit of Eq. (1) stores
      the raw loss, as LfF's EMA does;
    - ``tau`` (2: with tau = 1, c * r <= 2c, so only positions with
      c > 0.5 could ever be enhanced);
    - what is detached: IE(z) (always: a weight map computed from
      max-normalised scores and an argmax); Eqs. 9-10 back-propagate
      through both z and g(z) = z * IE(z), as written.
      ``detach_guidance_target=True`` detaches GAP(g(z)) in Eq. 9 instead
      (pulling GAP(z) towards the enhanced features); on SynthDigits that
      makes every position grow with its own target and the loss run away
      (see docs/methods/ie.md);
    - per-sample pairs (one x^BN per x) and the batch mean over paired
      samples for L_guide and L_BN; a sample whose class has no member in
      D^BN_t gets no pair (``empty_bn='skip'``, counted in the log) or one
      drawn from D_cand^BN of its class (``'candidate'``);
    - Grad-CAM in closed form for a GAP + linear head
      (``cam='closed_form'``, equal to autograd Grad-CAM, see the tests) or
      by autograd (``'autograd'``, any head).

    Args:
        classifier, biased_classifier, q, ema_alpha, gce_as_coded: As in
            :class:`LfF` (``bias_amplified`` is always True).
        t1: T1, from when reference losses are recorded (1K in the paper).
        t2: T2, from when the guidance is used (10K in the paper).
        alpha_l: EMA weight of the new loss in Eq. (1).
        alpha_s: EMA weight of the new value in Eq. (2).
        tau: Amplification factor of Eq. (5).
        lambda_sim: Weight of L_guide_sim in Eq. (11) (0.1 in the paper).
        bn_source: 'bn' (D^BN_t, the method), 'candidate' (D_cand^BN) or
            'all' (D) for the ablations of Table 3.
        bn_score_weight: Weight L_guide_sim and L_BN by s(x^BN) clipped at
            0 (Eqs. 9, 12); False for the ablations of Table 3.
        use_guide_loss: Include L_guide (False: Table 3, row 4).
        use_bn_loss: Include L_BN (False: Table 3, row 5).
        empty_bn: 'skip' or 'candidate', see above.
        detach_guidance_target: Detach GAP(g(z)) in Eq. 9 (see above).
        cam: 'closed_form' or 'autograd'.
    """

    phase_names = ('bn_reference', 'guidance')

    def __init__(self,
                 classifier: dict,
                 biased_classifier: Optional[dict] = None,
                 q: float = 0.7,
                 ema_alpha: float = 0.7,
                 gce_as_coded: bool = True,
                 t1: int = 1000,
                 t2: int = 10000,
                 alpha_l: float = 0.3,
                 alpha_s: float = 0.1,
                 tau: float = 2.0,
                 lambda_sim: float = 0.1,
                 bn_source: str = 'bn',
                 bn_score_weight: bool = True,
                 use_guide_loss: bool = True,
                 use_bn_loss: bool = True,
                 empty_bn: str = 'skip',
                 detach_guidance_target: bool = False,
                 cam: str = 'closed_form',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            classifier=classifier,
            biased_classifier=biased_classifier,
            q=q,
            ema_alpha=ema_alpha,
            bias_amplified=True,
            gce_as_coded=gce_as_coded,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        for name, value in (('alpha_l', alpha_l), ('alpha_s', alpha_s)):
            if not 0 < value <= 1:
                raise ValueError(f'IE: {name} must lie in (0, 1], got '
                                 f'{value}.')
        choices = dict(
            bn_source=(bn_source, BN_SOURCES),
            empty_bn=(empty_bn, ('skip', 'candidate')),
            cam=(cam, ('closed_form', 'autograd')))
        for key, (value, allowed) in choices.items():
            if value not in allowed:
                raise ValueError(f'IE: {key}="{value}" is not one of '
                                 f'{allowed}.')
        head = self.models['debiased'].head
        if cam == 'closed_form' and not isinstance(head, GAPLinearHead):
            raise ValueError(
                "IE: cam='closed_form' needs f_cls = GAPLinearHead (GAP + "
                f"linear), got {type(head).__name__}; use cam='autograd'.")
        self.alpha_l = alpha_l
        self.alpha_s = alpha_s
        self.tau = tau
        self.lambda_sim = lambda_sim
        self.bn_source = bn_source
        self.bn_score_weight = bn_score_weight
        self.use_guide_loss = use_guide_loss
        self.use_bn_loss = use_bn_loss
        self.empty_bn = empty_bn
        self.detach_guidance_target = detach_guidance_target
        self.cam = cam
        self.add_per_sample_tables(
            dict(bn_loss='float', bn_ref='float', bn_score='float'))
        if t2 < t1:
            raise ValueError(f'IE: T2 (t2={t2}) must be >= T1 (t1={t1}), as '
                             'Algorithm 1 asks.')
        self.phase_begins = dict(bn_reference=t1, guidance=t2)
        self._last_ce_b = None

    @property
    def required_hooks(self):  # type: ignore[override]
        return ('BiasCommitteeHook', )

    def lambda_main(self, iteration: int) -> float:
        """Eq. (13)'s weight of L_main at ``iteration``: 0 up to T2, 1 at
        the last iteration (``max_iters - 1``), linear in between."""
        end = getattr(self, 'max_iters', 0) - 1
        return linear_ramp(iteration, self.phase_begins['guidance'], end, 0.0,
                           1.0)

    def update_per_sample_scores(self, iteration: int) -> None:
        """The BN score update of this iteration's samples (Eqs. 1-2 and
        Algorithm 1, lines 4-6), with f_b's CE losses of every rank
        recorded during the step; called at the end of :meth:`update`."""
        if self._last_ce_b is None:
            return
        idx, ce_b = self._last_ce_b
        self._last_ce_b = None
        state = self.per_sample
        reference = self.phase_on('bn_reference', iteration)
        if reference:
            # Lines 4-5: l_ref(x) <- l(x) where not yet initialised, with
            # the loss EMA as it stood before this iteration.
            fresh = idx[~state.seen('bn_ref', idx)
                        & state.seen('bn_loss', idx)]
            state.assign('bn_ref', fresh, state.get('bn_loss', fresh))
        state.ema_update('bn_loss', idx, ce_b, 1 - self.alpha_l)  # Eq. (1)
        if reference:
            # Samples first seen at or after T1 take l_t as reference.
            first = idx[~state.seen('bn_ref', idx)]
            state.assign('bn_ref', first, state.get('bn_loss', first))
            ref_idx = idx[state.seen('bn_ref', idx)]
            delta = (state.get('bn_loss', ref_idx) -
                     state.get('bn_ref', ref_idx))
            score = (self.alpha_s * delta +  # Eq. (2)
                     (1 - self.alpha_s) * state.get('bn_score', ref_idx))
            state.assign('bn_score', ref_idx, score)

    def bn_members(self) -> torch.Tensor:
        """Boolean (N,) mask of the set x^BN is drawn from: D^BN_t (Eq. 3)
        or an ablation's set."""
        state = self.per_sample
        if self.bn_source == 'all':
            return torch.ones_like(state.get('bn_candidate'))
        candidate = state.get('bn_candidate')
        if self.bn_source == 'candidate':
            return candidate
        return candidate & (state.get('bn_score') > 0)

    def per_sample_summary(self) -> Dict[str, float]:
        """What each step logs: |D^BN_t|, |D_cand^BN|, the mean BN score
        over D_cand^BN (samples with a reference) and |D^A|."""
        state = self.per_sample
        candidate = state.get('bn_candidate')
        scored = candidate & state.seen('bn_ref')
        score = state.get('bn_score')
        mean = float(score[scored].mean()) if scored.any() else 0.0
        return dict(
            bn_set_size=float(
                (candidate & (score > 0)).sum()),
            bn_candidate_size=float(candidate.sum()),
            bn_score_mean=mean,
            amplified_size=float(state.get('amplified').sum()))

    # ------------------------------------------------------------------ #
    # Pairs
    # ------------------------------------------------------------------ #
    def sample_pairs(self, labels: torch.Tensor,
                     empty_bn: Optional[str] = None
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
        """For each x, the index of an x^BN of the same class drawn
        uniformly from the members of :meth:`bn_members` (torch's global
        generator, re-seeded each iteration by the train loop).

        Args:
            labels: (B,) classes of the x.
            empty_bn: Overrides ``self.empty_bn`` for this call ('skip' or
                'candidate'; the visualisation asks for 'candidate').

        Returns:
            ``pair_idx`` (B,) (-1 where there is none) and ``paired`` (B,)
            bool.
        """
        empty_bn = self.empty_bn if empty_bn is None else empty_bn
        if empty_bn not in ('skip', 'candidate'):
            raise ValueError(f'IE.sample_pairs: empty_bn="{empty_bn}" is '
                             "not one of ('skip', 'candidate').")
        state = self.per_sample
        pair_idx = _draw_same_class(self.bn_members(), state.gt_label, labels)
        if empty_bn == 'candidate':
            missing = pair_idx < 0
            if missing.any():
                pair_idx[missing] = _draw_same_class(
                    state.get('bn_candidate'), state.gt_label,
                    labels[missing])
        return pair_idx, pair_idx >= 0

    # ------------------------------------------------------------------ #
    # Guidance
    # ------------------------------------------------------------------ #
    def explanation_map(self, feats: torch.Tensor,
                        labels: torch.Tensor) -> torch.Tensor:
        """E(z): Grad-CAM of f_d w.r.t. ``labels``, max-normalised."""
        head = self.models['debiased'].head
        if self.cam == 'closed_form':
            return gap_linear_grad_cam(feats, head.fc.weight, labels)
        return grad_cam(feats, head, labels)

    def guidance(self, z: torch.Tensor, z_bn: torch.Tensor,
                 labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """IE(z) (Eqs. 4-6, detached) and g(z) = z * IE(z) (Eq. 7)."""
        with torch.no_grad():
            c, i_star = common_feature_score(z.detach(), z_bn.detach())
            e_z = self.explanation_map(z.detach(), labels)
            e_bn = self.explanation_map(z_bn.detach(), labels)
            r = relative_exploitation_score(e_z, e_bn, i_star, self.tau)
            weight = ie_weight(c, r)
        return dict(
            ie=weight, e_z=e_z, e_bn=e_bn, c=c, r=r,
            g=z * weight.unsqueeze(1))

    @torch.no_grad()
    def explain_pairs(self, inputs: torch.Tensor, labels: torch.Tensor,
                      seed: int = 0) -> Dict[str, torch.Tensor]:
        """IE Figure 3 for given samples x: a bias-contrastive pair for each
        and the maps of Eqs. 4-6, for the visualisation hook.

        x^BN is drawn as in training by :meth:`sample_pairs` (uniformly from
        the members of :meth:`bn_members` of x's class), except that a class
        with no member falls back on its D_cand^BN (``empty_bn='candidate'``)
        so that a figure exists before D^BN fills; the draw uses a generator
        seeded with ``seed`` inside :func:`torch.random.fork_rng`, so the
        global generators are left as they were. x^BN is loaded with
        :meth:`load_train_samples` (which needs :meth:`prepare_train`). The
        maps come from :meth:`guidance` on f_d's feature maps of x and x^BN
        in f_d's current mode (eval at test time).

        Args:
            inputs: (B, C, H, W) preprocessed x.
            labels: (B,) their classes (ground truth: E is the Grad-CAM of
                the true class, as in training).
            seed: Seed of the draw of the pairs.

        Returns:
            ``pair_idx`` (B,) training-set index of x^BN (-1: no candidate
            of the class at all), ``from_candidate`` (B,) bool (x^BN came
            from D_cand^BN because D^BN_t had no member of the class),
            ``bn_score`` (B,) s(x^BN); and, for the P paired samples in
            order, ``x_bn`` (P, C, H, W) preprocessed, ``e_z``, ``e_bn``,
            ``ie``, ``c``, ``r`` (P, h, w).
        """
        devices = (list(range(torch.cuda.device_count()))
                   if labels.is_cuda else [])
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            pair_idx, paired = self.sample_pairs(labels, empty_bn='candidate')
            x_bn = (self.load_train_samples(pair_idx[paired].tolist())
                    ['inputs'] if paired.any() else None)
        state = self.per_sample
        from_candidate = torch.zeros_like(paired)
        bn_score = torch.zeros(labels.shape, device=labels.device)
        if paired.any():
            picked = pair_idx[paired]
            from_candidate[paired] = ~self.bn_members()[picked]
            bn_score[paired] = state.get('bn_score', picked).to(
                bn_score.dtype)
        out = dict(pair_idx=pair_idx, from_candidate=from_candidate,
                   bn_score=bn_score)
        if x_bn is None:
            return out
        f_d = self.models['debiased']
        z = f_d.extract_feat(inputs[paired])
        z_bn = f_d.extract_feat(x_bn)
        guide = self.guidance(z, z_bn, labels[paired])
        out.update(x_bn=x_bn, **{
            k: guide[k]
            for k in ('e_z', 'e_bn', 'ie', 'c', 'r')
        })
        return out

    def update(self, inputs: torch.Tensor, data_samples: Dict[str,
                                                              torch.Tensor],
               optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        labels, idx = data_samples['gt_label'], data_samples['sample_idx']
        f_b, f_d = self.models['biased'], self.models['debiased']
        opt_b, opt_d = optim_wrapper['biased'], optim_wrapper['debiased']
        iteration = current_iter()
        guided = self.phase_on('guidance', iteration)
        log_vars: Dict[str, torch.Tensor] = {}

        pair_idx = paired = x_bn = None
        if guided:
            pair_idx, paired = self.sample_pairs(labels)
            x_bn = self.load_train_samples(
                pair_idx[paired].tolist())['inputs'] if paired.any() else None
        with opt_b.optim_context(f_b), opt_d.optim_context(f_d):
            logits_b = f_b(inputs)
            if guided and x_bn is not None:
                # One pass over x and x^BN (shared batch statistics).
                feats, logits = f_d.forward_with_feat(
                    torch.cat([inputs, x_bn]))
                z, z_bn = feats[:len(inputs)], feats[len(inputs):]
                logits_d, logits_bn = logits[:len(inputs)], logits[len(
                    inputs):]
            else:
                z, logits_d = f_d.forward_with_feat(inputs)
            ce_b = F.cross_entropy(logits_b, labels, reduction='none')
            ce_d = F.cross_entropy(logits_d, labels, reduction='none')
            weight = self.relative_difficulty(idx, labels, ce_b.detach(),
                                              ce_d.detach())
            loss_b = self.biased_loss(logits_b, labels, idx)
            loss_main = (weight * ce_d).mean()  # Eq. (8)
            loss_d = loss_main
            if guided:
                loss_d = self.lambda_main(iteration) * loss_main
                log_vars['paired_ratio'] = paired.float().mean()
                if x_bn is not None:
                    losses, diagnostics = self.guided_losses(
                        z[paired], z_bn, logits_bn, labels[paired],
                        weight[paired], pair_idx[paired])
                    for key, value in losses.items():
                        loss_d = loss_d + value
                    log_vars.update(losses, **diagnostics)
        log_vars.update(loss_main=loss_main, weight_mean=weight.mean())
        if loss_b is not None:
            opt_b.update_params(loss_b)
            log_vars['loss_b'] = loss_b
        opt_d.update_params(loss_d)
        log_vars['loss_d'] = loss_d
        # Eqs. (1)-(2) and lines 4-6 with this step's f_b losses (all ranks)
        self.update_per_sample_scores(iteration)
        log_vars.update(self.phase_log_vars(),
                        lambda_main=self.lambda_main(iteration),
                        **self.per_sample_summary())
        return log_vars

    def guided_losses(self, z: torch.Tensor, z_bn: torch.Tensor,
                      logits_bn: torch.Tensor, labels: torch.Tensor,
                      weight: torch.Tensor,
                      pair_idx: torch.Tensor
                      ) -> Tuple[Dict[str, torch.Tensor],
                                 Dict[str, torch.Tensor]]:
        """L_guide (Eqs. 9-11) and L_BN (Eq. 12), averaged over the paired
        samples (``weight`` is w(x) of the paired x), and diagnostics of
        IE(z) to log."""
        if self.bn_score_weight:  # s(x^BN) clipped at 0
            score = self.per_sample.get('bn_score', pair_idx).clamp_min(0)
        else:
            score = torch.ones_like(weight)
        losses: Dict[str, torch.Tensor] = {}
        diagnostics: Dict[str, torch.Tensor] = {}
        if self.use_guide_loss:
            guide = self.guidance(z, z_bn, labels)
            head = self.models['debiased'].head
            pooled = head.pool(z)
            pooled_g = head.pool(guide['g'])  # GAP(g(z)), Eqs. 9 and 10
            target = (pooled_g.detach()
                      if self.detach_guidance_target else pooled_g)
            sim = (pooled - target).abs().sum(dim=1)  # ||.||_1, Eq. (9)
            cls = F.cross_entropy(  # Eq. (10): f_cls(g(z)) = fc(GAP(g))
                head.fc(pooled_g), labels, reduction='none')
            losses['loss_guide_sim'] = self.lambda_sim * (score * sim).mean()
            losses['loss_guide_cls'] = (weight * cls).mean()
            diagnostics['ie_mean'] = guide['ie'].mean()
            diagnostics['ie_enhanced_ratio'] = (guide['ie'] >
                                                1).float().mean()
        if self.use_bn_loss:  # Eq. (12)
            losses['loss_bn'] = (score * F.cross_entropy(
                logits_bn, labels, reduction='none')).mean()
        return losses, diagnostics
