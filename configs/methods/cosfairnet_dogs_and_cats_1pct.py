_base_ = [
    '../_base_/models/resnet18_pretrained_mlp3.py',
    '../_base_/methods/cosfairnet_resnet18_mlp3.py',
    '../_base_/datasets/dogs_and_cats.py',
    '../_base_/schedules/adam_50k_lr1e-3.py', '../_base_/default_runtime.py'
]
severity = '1pct'
# lambda_c of supplementary Table 4 at this ratio
model = dict(lambda_dissim=1e-8)
