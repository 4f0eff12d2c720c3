# SynthDigits' budget (adam_synthdigits.py: 5K iterations) with DisEnt's lr
# decay at its proportions on Colored MNIST (swap and StepLR from 1/5 of the
# run on, decay every 1/5, gamma 0.5): StepLR(1K, 0.5) from curr_step = 1K.
_base_ = ['./adam_synthdigits.py']
param_scheduler = [
    dict(type='StepLR', by_epoch=False, begin=1000, step_size=1000,
         gamma=0.5)
]
