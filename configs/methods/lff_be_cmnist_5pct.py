_base_ = [
    '../_base_/models/mlp_disent_cmnist.py', '../_base_/methods/lff_be.py',
    '../_base_/datasets/cmnist.py', '../_base_/schedules/adam_be_cmnist.py',
    '../_base_/default_runtime.py'
]
severity = '5pct'
