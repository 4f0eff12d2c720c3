_base_ = [
    '../_base_/models/resnet18_pretrained.py', '../_base_/methods/lff_be.py',
    '../_base_/datasets/waterbirds.py', '../_base_/schedules/adam_50k.py',
    '../_base_/default_runtime.py'
]
severity = '2pct'
