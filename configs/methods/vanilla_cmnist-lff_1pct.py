_base_ = [
    '../_base_/models/mlp_cmnist.py', '../_base_/methods/vanilla.py',
    '../_base_/datasets/cmnist_lff.py', '../_base_/schedules/adam_cmnist.py',
    '../_base_/default_runtime.py'
]
severity = '1pct'
