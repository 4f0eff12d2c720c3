_base_ = [
    '../_base_/models/resnet18_pretrained.py',
    '../_base_/methods/vanilla.py',
    '../_base_/datasets/celeba.py',
    '../_base_/schedules/sgd_pgd_celeba.py',
    '../_base_/default_runtime.py'
]
# CelebA, target Heavy_Makeup, bias Male, with PGD's settings.
