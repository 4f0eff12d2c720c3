_base_ = [
    '../_base_/models/resnet3d18_kinetics.py',
    '../_base_/methods/vanilla.py',
    '../_base_/datasets/kinetics10_mimetics10.py',
    '../_base_/schedules/adam_kinetics.py',
    '../_base_/default_runtime.py',
]
