# PGD with its de-noising module in front (Algorithm 3): a noise model
# trained with CE splits D_clean / D_noise by the compensated loss CE / H;
# PGD then scores and samples D_clean only.
_base_ = ['./pgd.py']
custom_hooks = [
    dict(type='DenoisingHook', num_iters=1000),
    dict(type='PGDScoringHook', batch_size=256, pipeline='test'),
]
