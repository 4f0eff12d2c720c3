# PGD Table 2, with its de-noising module in front: a noise model trained
# with CE for one stage (100 epochs) keeps D_clean; training uses D_clean.
_base_ = ['./pgd_pgdcmnist-a1e-4_1pct_noise5.py']
_stage = 100 * 211
custom_hooks = [
    dict(type='DenoisingHook', num_iters=_stage),
    dict(type='PGDScoringHook', batch_size=256, pipeline='test'),
]
