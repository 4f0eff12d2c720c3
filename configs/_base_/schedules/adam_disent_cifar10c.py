# DisEnt's Corrupted CIFAR-10 schedule (run_cifar10c_ours.sh): Adam, lr 1e-3
# (5e-4 at 0.5 %, set by that leaf config), batch 256, 50K iterations,
# evaluation every 500, StepLR(10K, gamma 0.5) from curr_step = 10K on.
_base_ = ['./adam_50k_lr1e-3.py']
auto_scale_lr = dict(base_batch_size=256)
param_scheduler = [
    dict(type='StepLR', by_epoch=False, begin=10000, step_size=10000,
         gamma=0.5)
]
