_base_ = [
    '../_base_/models/resnet18_pretrained_mlp3.py',
    '../_base_/methods/cosfairnet_resnet18_mlp3.py',
    '../_base_/datasets/bar.py', '../_base_/schedules/adam_50k_lr1e-3.py',
    '../_base_/default_runtime.py'
]
severity = '5pct'
# No lambda_c is published for BAR (supplementary Table 1): BFFHQ's at the
# same ratio (the same backbone and head).
model = dict(lambda_dissim=1e-5)
