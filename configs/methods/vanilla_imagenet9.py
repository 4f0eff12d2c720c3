_base_ = [
    '../_base_/models/resnet18_bagnet18_imagenet9.py',
    '../_base_/methods/vanilla.py',
    '../_base_/datasets/imagenet9.py',
    '../_base_/schedules/adam_imagenet9.py',
    '../_base_/default_runtime.py',
]
