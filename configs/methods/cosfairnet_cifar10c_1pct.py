_base_ = [
    '../_base_/models/resnet20_cifar.py',
    '../_base_/methods/cosfairnet_resnet20.py',
    '../_base_/datasets/cifar10c.py', '../_base_/schedules/adam_cifar10c.py',
    '../_base_/default_runtime.py'
]
severity = '1pct'
