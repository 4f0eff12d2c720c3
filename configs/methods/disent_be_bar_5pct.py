_base_ = [
    '../_base_/models/resnet18_pretrained.py', '../_base_/methods/disent_be.py',
    '../_base_/datasets/bar.py', '../_base_/schedules/adam_disent_lr1e-5.py',
    '../_base_/default_runtime.py'
]
severity = '5pct'
# BE train_bar.sh: ImageNet ResNet18, lr 1e-5
model = dict(lambda_swap=1.0, lambda_dis_align=1.0, lambda_swap_align=1.0)
