"""Backbones: each returns the spatial feature map before global pooling,
``(B, out_channels, h, w)``, and exposes ``out_channels``."""
from .conv_net import ConvNet
from .mlp import MLP
from .pgd_convnet import PGDConvNet
from .resnet import ResNet18, torchvision_resnet18_path
from .resnet_cifar import ResNet20, ResNetCIFAR
from .simple_convnet import SimpleConvNet

__all__ = ['ConvNet', 'MLP', 'PGDConvNet', 'ResNet18', 'ResNet20', 'ResNetCIFAR', 'SimpleConvNet',
           'torchvision_resnet18_path']
