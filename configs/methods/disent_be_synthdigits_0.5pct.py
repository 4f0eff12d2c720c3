_base_ = [
    '../_base_/models/convnet_digits.py', '../_base_/methods/disent_be.py',
    '../_base_/datasets/synthdigits.py',
    '../_base_/schedules/adam_synthdigits_disent.py',
    '../_base_/default_runtime.py'
]
severity = '0.5pct'
model = dict(curr_step=1000)
