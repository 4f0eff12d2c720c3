_base_ = [
    '../_base_/models/pgd_convnet2.py',
    '../_base_/methods/vanilla.py',
    '../_base_/datasets/cartoon.py',
    '../_base_/schedules/sgd_pgd_cartoon.py',
    '../_base_/default_runtime.py'
]
severity = '0.5pct'
