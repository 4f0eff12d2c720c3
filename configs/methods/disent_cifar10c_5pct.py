_base_ = [
    '../_base_/models/resnet18_scratch.py', '../_base_/methods/disent.py',
    '../_base_/datasets/cifar10c.py',
    '../_base_/schedules/adam_disent_cifar10c.py',
    '../_base_/default_runtime.py'
]
severity = '5pct'
# run_cifar10c_ours.sh at this ratio
model = dict(lambda_swap=1.0, lambda_dis_align=1.0, lambda_swap_align=1.0)
