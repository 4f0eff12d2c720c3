# PGD as its official code implements it (the ICLR'23 version): sampling
# probabilities proportional to the 0.7-norm of the last layer's weight
# gradient, sampling with replacement, f_d initialised from f_b. Its one
# augmented training loader serves both stages.
model = dict(
    type='PGD', bias_iters=0.5, variant='official', q=0.7, norm_p=0.7)
custom_hooks = [
    dict(type='PGDScoringHook', batch_size=256, pipeline='test'),
]
