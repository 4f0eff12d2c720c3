# LfF+BE (BiasEnsemble, Lee et al., AAAI 2023): a committee of 5 GCE models
# trained 1,000 iterations each picks the bias-amplified set D^A (p_y > 0.99
# in >= 3 of them); f_b is a fresh model trained with CE on D^A only.
model = dict(type='LfF', q=0.7, ema_alpha=0.7, bias_amplified=True)
custom_hooks = [
    dict(type='BiasCommitteeHook', num_models=5, num_iters=1000,
         valid_interval=500, threshold=0.99, agreement=3),
]
