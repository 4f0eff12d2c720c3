# ReBias Table 3's "Biased" row: G alone, 2D-ResNet18 (biased_classifiers[0]).
_base_ = [
    '../_base_/models/resnet3d18_kinetics.py',
    '../_base_/methods/vanilla.py',
    '../_base_/datasets/kinetics10_mimetics10.py',
    '../_base_/schedules/adam_kinetics.py',
    '../_base_/default_runtime.py',
]
classifier = dict(backbone=dict(temporal_kernels='2d'))
