_base_ = [
    '../_base_/models/pgd_convnet2.py',
    '../_base_/methods/pgd-official.py',
    '../_base_/datasets/cartoon.py',
    '../_base_/schedules/sgd_pgd_cartoon_2stage.py',
    '../_base_/default_runtime.py'
]
severity = '1pct'
