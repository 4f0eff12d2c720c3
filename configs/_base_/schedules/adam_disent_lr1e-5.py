# DisEnt+BE's BAR schedule (BE train_bar.sh): Adam 1e-5, 50K iterations,
# evaluation every 500, StepLR(10K, gamma 0.1) from curr_step = 10K on.
_base_ = ['./adam_50k_lr1e-5.py']
param_scheduler = [
    dict(type='StepLR', by_epoch=False, begin=10000, step_size=10000,
         gamma=0.1)
]
