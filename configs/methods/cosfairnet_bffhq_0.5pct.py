_base_ = [
    '../_base_/models/resnet18_pretrained_mlp3.py',
    '../_base_/methods/cosfairnet_resnet18_mlp3.py',
    '../_base_/datasets/bffhq.py', '../_base_/schedules/adam_50k_lr1e-3.py',
    '../_base_/default_runtime.py'
]
severity = '0.5pct'
# lambda_c of supplementary Table 3 at this ratio
model = dict(lambda_dissim=1e-6)
