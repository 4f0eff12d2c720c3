# ReBias Table 2's "Biased" row: G alone, BagNet18 (biased_classifiers[0]).
_base_ = [
    '../_base_/models/resnet18_bagnet18_imagenet9.py',
    '../_base_/methods/vanilla.py',
    '../_base_/datasets/imagenet9.py',
    '../_base_/schedules/adam_imagenet9.py',
    '../_base_/default_runtime.py',
]
classifier = dict(backbone=dict(_delete_=True, type='BagNet18'))
