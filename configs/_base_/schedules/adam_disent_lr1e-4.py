# DisEnt's and DisEnt+BE's BFFHQ / Dogs & Cats schedule (run_bffhq_ours.sh,
# BE train_bffhq.sh / train_dnc.sh): Adam 1e-4, 50K iterations, evaluation
# every 500, StepLR(10K, gamma 0.1: the scripts pass no --lr_gamma) from
# curr_step = 10K on (begin must equal model.curr_step).
_base_ = ['./adam_50k.py']
param_scheduler = [
    dict(type='StepLR', by_epoch=False, begin=10000, step_size=10000,
         gamma=0.1)
]
