_base_ = [
    '../_base_/models/mlp_disent_cmnist.py', '../_base_/methods/disent_be.py',
    '../_base_/datasets/cmnist.py',
    '../_base_/schedules/adam_disent_cmnist.py', '../_base_/default_runtime.py'
]
severity = '5pct'
