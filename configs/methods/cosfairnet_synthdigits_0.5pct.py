_base_ = [
    '../_base_/models/convnet_digits.py',
    '../_base_/methods/cosfairnet_convnet_digits.py',
    '../_base_/datasets/synthdigits.py',
    '../_base_/schedules/adam_synthdigits.py', '../_base_/default_runtime.py'
]
severity = '0.5pct'
