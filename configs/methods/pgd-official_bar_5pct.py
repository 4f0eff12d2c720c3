_base_ = [
    '../_base_/models/resnet18_pretrained.py',
    '../_base_/methods/pgd-official.py',
    '../_base_/datasets/bar.py',
    '../_base_/schedules/sgd_pgd_bar_2stage.py',
    '../_base_/default_runtime.py'
]
# PGD's Table 4 settings; BAR in the BiasEnsemble layout (PGD used the
# original release, of about the same size).
severity = '5pct'
