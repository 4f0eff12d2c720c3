_base_ = [
    '../_base_/models/resnet18_scratch.py', '../_base_/methods/disent.py',
    '../_base_/datasets/dogs_and_cats.py',
    '../_base_/schedules/adam_disent_lr1e-4.py', '../_base_/default_runtime.py'
]
severity = '1pct'
# BE train_dnc.sh (DisEnt's own scripts have no Dogs & Cats)
model = dict(lambda_swap=1.0, lambda_dis_align=1.0, lambda_swap_align=1.0)
