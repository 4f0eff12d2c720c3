_base_ = [
    '../_base_/models/resnet18_pretrained.py', '../_base_/methods/lff.py',
    '../_base_/datasets/dogs_and_cats.py', '../_base_/schedules/adam_50k.py',
    '../_base_/default_runtime.py'
]
severity = '1pct'
