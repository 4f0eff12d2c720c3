# IE (Park, Chung and Choo, CVPR 2024) on LfF+BE. Paper: T1 = 1K, T2 = 10K,
# lambda_sim = 0.1; alpha_l, alpha_s and tau are not published (our
# defaults and their sensitivity: docs/methods/ie.md). From t1 on the BN
# score records reference losses, from t2 on f_d trains with the guidance
# and lambda_main ramps from 0 to 1 at the last iteration (Eq. 13).
model = dict(
    type='IE', q=0.7, ema_alpha=0.7, t1=1000, t2=10000, alpha_l=0.3,
    alpha_s=0.1, tau=2.0, lambda_sim=0.1, detach_guidance_target=False)
custom_hooks = [
    # D^A and D_cand^BN from the committee of early-stopped biased models.
    dict(type='BiasCommitteeHook', num_models=5, num_iters=1000,
         valid_interval=500, threshold=0.99, agreement=3),
]
