_base_ = [
    '../_base_/models/resnet18_scratch.py', '../_base_/methods/disent.py',
    '../_base_/datasets/bffhq.py', '../_base_/schedules/adam_disent_lr1e-4.py',
    '../_base_/default_runtime.py'
]
severity = '0.5pct'
# run_bffhq_ours.sh / BE train_bffhq.sh
model = dict(lambda_swap=0.1, lambda_dis_align=2.0, lambda_swap_align=2.0)
