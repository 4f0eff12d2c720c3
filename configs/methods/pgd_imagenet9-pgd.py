_base_ = [
    '../_base_/models/resnet18_pretrained.py',
    '../_base_/methods/pgd.py',
    '../_base_/datasets/imagenet9.py',
    '../_base_/schedules/sgd_pgd_imagenet9_2stage.py',
    '../_base_/default_runtime.py',
]
# PGD's ImageNet/ImageNet-A setting (its Table 3): the 9-class ImageNet of
# ReBias with an ImageNet-pretrained ResNet18, batch 64 and a validation
# split of 10 % of the training images.
valid_fraction = 0.1
train_dataloader = dict(batch_size=64)
model = dict(num_dims=500)  # K (PGD Table 4)
