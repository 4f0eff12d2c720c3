"""Backbones: each returns the spatial feature map before global pooling,
``(B, out_channels, h, w)`` (``(B, out_channels, t, h, w)`` for the video
backbone ``ResNet3D18``), and exposes ``out_channels``."""
from .bagnet import BagNet18
from .conv_net import ConvNet
from .mlp import MLP
from .pgd_convnet import PGDConvNet
from .resnet import ResNet18, torchvision_resnet18_path
from .resnet3d import ResNet3D18
from .resnet_cifar import ResNet20, ResNetCIFAR
from .simple_convnet import SimpleConvNet

__all__ = ['BagNet18', 'ConvNet', 'MLP', 'PGDConvNet', 'ResNet18', 'ResNet20',
           'ResNet3D18', 'ResNetCIFAR', 'SimpleConvNet',
           'torchvision_resnet18_path']
