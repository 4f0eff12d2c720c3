# PGD (ICLR'22 submission, the seed method): f_b with GCE for the first half
# of the run, per-sample gradient scores (K dominant dimensions, magnitude and
# vMF direction, weighted harmonic mean), then f_d with CE on batches of the
# rejection sampler for the second half. K: 100 for the MNIST variants and
# Cartoon, 500 for the real-world sets (its Table 4). direction_floor: the
# official vMF helper's clamp of the relative direction density (None: exact;
# docs/methods/pgd.md). bias_pipeline: f_b's images in step 1, augmented as
# in the official code ('train'), or raw as the paper's text ('test'; worse
# on our Colored MNIST, docs/methods/pgd.md). bias_iters: the first
# iteration of step 3 (a fraction of the run, or an iteration).
model = dict(
    type='PGD', bias_iters=0.5, variant='seed', q=0.7, num_dims=100,
    lam=1.0, direction_floor=1e-8)
custom_hooks = [
    # step 2 at bias_iters: scores, p_s, the sampler switch
    dict(
        type='PGDScoringHook',
        batch_size=256,
        pipeline='test',
        bias_pipeline='train'),
]
