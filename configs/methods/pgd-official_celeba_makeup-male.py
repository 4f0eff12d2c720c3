_base_ = [
    '../_base_/models/resnet18_pretrained.py',
    '../_base_/methods/pgd-official.py',
    '../_base_/datasets/celeba.py',
    '../_base_/schedules/sgd_pgd_celeba_2stage.py',
    '../_base_/default_runtime.py'
]
# CelebA, target Heavy_Makeup, bias Male (PGD's setting, the dataset
# config's default).
