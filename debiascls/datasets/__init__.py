from .bar import BAR, BAR_ACTIONS, BAR_PLACES, BAR_SEVERITIES
from .base_dataset import UNKNOWN_BIAS, BaseBiasDataset, DatasetError
from .bffhq import BFFHQ, BFFHQ_SEVERITIES
from .bias_folder import BiasFolderDataset, format_name, parse_labels
from .biased_mnist import (REBIAS_COLORS, TRAIN_RHOS, BiasedMNIST,
                           generate_biased_mnist)
from .cartoon import CARTOON_SEVERITIES, CartoonSet
from .celeba import CelebABias
from .color_bias import LFF_COLORS, SEVERITY_RATIOS
from .colored_mnist import ColoredMNIST, generate_colored_mnist
from .corrupted_cifar10 import (CIFAR10C_SEVERITIES, CorruptedCIFAR10,
                                generate_corrupted_cifar10)
from .corruptions import CORRUPTION_TYPES, CORRUPTIONS
from .dogs_and_cats import DOGS_AND_CATS_SEVERITIES, DogsAndCats
from .idx import read_idx, write_idx
from .imagenet9 import (IMAGENET9_CLASSES, IMAGENET9_WNIDS, ImageNet9,
                        read_cluster_csv)
from .imagenet_a import IMAGENET_A_WNIDS, ImageNetA
from .imagenet_c import IMAGENET_C_CORRUPTIONS, ImageNetC
from .kinetics import KINETICS10_CLASSES, MIMETICS50_CLASSES, Kinetics10
from .mimetics import Mimetics10
from .pgd_colored_mnist import (PGD_COLORS, PGD_SEVERITIES, PGDColoredMNIST,
                                generate_pgd_colored_mnist)
from .sample_layouts import write_sample_layout
from .samplers import *  # noqa: F401,F403
from .samplers import __all__ as _samplers_all
from .synth_digits import (SYNTH_SEVERITIES, SynthDigits,
                           generate_synth_digits, render_digits)
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transforms_all
from .waterbirds import WATERBIRDS_SEVERITIES, Waterbirds
from .watermarked_mnist import WatermarkedMNIST, generate_watermarked_mnist

__all__ = [
    'UNKNOWN_BIAS', 'BaseBiasDataset', 'DatasetError', 'BiasFolderDataset',
    'format_name', 'parse_labels', 'ColoredMNIST', 'generate_colored_mnist',
    'BiasedMNIST', 'generate_biased_mnist', 'SynthDigits',
    'generate_synth_digits', 'render_digits', 'read_idx', 'write_idx',
    'LFF_COLORS', 'REBIAS_COLORS', 'SEVERITY_RATIOS', 'SYNTH_SEVERITIES',
    'TRAIN_RHOS', 'BFFHQ', 'BFFHQ_SEVERITIES', 'DogsAndCats',
    'DOGS_AND_CATS_SEVERITIES', 'BAR', 'BAR_ACTIONS', 'BAR_PLACES',
    'BAR_SEVERITIES', 'Waterbirds', 'WATERBIRDS_SEVERITIES',
    'write_sample_layout', 'CorruptedCIFAR10', 'generate_corrupted_cifar10',
    'CIFAR10C_SEVERITIES', 'CORRUPTIONS', 'CORRUPTION_TYPES',
    'PGDColoredMNIST', 'generate_pgd_colored_mnist', 'PGD_COLORS',
    'PGD_SEVERITIES', 'WatermarkedMNIST', 'generate_watermarked_mnist',
    'CartoonSet', 'CARTOON_SEVERITIES', 'CelebABias',
    'ImageNet9', 'IMAGENET9_CLASSES', 'IMAGENET9_WNIDS', 'read_cluster_csv',
    'ImageNetA', 'IMAGENET_A_WNIDS', 'ImageNetC', 'IMAGENET_C_CORRUPTIONS',
    'Kinetics10', 'Mimetics10', 'KINETICS10_CLASSES', 'MIMETICS50_CLASSES'
] + list(_samplers_all) + list(_transforms_all)
