_base_ = [
    '../_base_/models/resnet3d18_kinetics.py',
    '../_base_/methods/learned_mixin.py',
    '../_base_/datasets/kinetics10_mimetics10.py',
    '../_base_/schedules/adam_kinetics_lm.py',
    '../_base_/default_runtime.py',
]
model = dict(pretrain_epochs=30)  # ReBias appendix
