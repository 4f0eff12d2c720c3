# DisEnt's Colored MNIST schedule (run_cmnist_ours.sh, BE's DisEnt+BE
# script): adam_be_cmnist.py plus StepLR(10K, gamma 0.5) stepped only from
# curr_step = 10K on (--use_lr_decay --lr_decay_step 10000 --lr_gamma 0.5):
# begin must equal model.curr_step (DisEnt checks it).
_base_ = ['./adam_be_cmnist.py']
param_scheduler = [
    dict(type='StepLR', by_epoch=False, begin=10000, step_size=10000,
         gamma=0.5)
]
