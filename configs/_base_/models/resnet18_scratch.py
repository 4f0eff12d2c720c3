# torchvision's ResNet18 trained from scratch (random init, no ImageNet
# weights): DisEnt's and BiasEnsemble's backbone on Corrupted CIFAR-10,
# BFFHQ and Dogs & Cats (their get_model: pretrained=False); the avgpool
# output is the feature z of DisEnt's concatenated heads.
_base_ = ['./resnet18_pretrained.py']
classifier = dict(backbone=dict(pretrained=None))
