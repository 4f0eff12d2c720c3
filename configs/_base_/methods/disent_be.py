# DisEnt+BE (BiasEnsemble's train_disent_be, Lee et al., AAAI 2023): DisEnt
# whose bias branch is trained with CE on D^A, the set a committee of 5 GCE
# models trained 1,000 iterations each selects (p_y > 0.99 in >= 3).
_base_ = ['./disent.py']
model = dict(bias_amplified=True)
custom_hooks = [
    dict(type='BiasCommitteeHook', num_models=5, num_iters=1000,
         valid_interval=500, threshold=0.99, agreement=3),
]
