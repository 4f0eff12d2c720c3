_base_ = [
    '../_base_/models/convnet_digits.py', '../_base_/methods/vanilla.py',
    '../_base_/datasets/cmnist.py', '../_base_/schedules/adam_cmnist.py',
    '../_base_/default_runtime.py'
]
severity = '1pct'
