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
    'CartoonSet', 'CARTOON_SEVERITIES', 'CelebABias'
] + list(_samplers_all) + list(_transforms_all)
