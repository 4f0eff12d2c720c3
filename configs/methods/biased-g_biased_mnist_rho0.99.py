# ReBias Table 1's "Biased" row: G alone (F's network with 1x1 kernels,
# i.e. biased_classifiers[0]) trained with CE.
_base_ = ['./vanilla_biased_mnist_rho0.99.py']
classifier = dict(backbone=dict(kernel_size=1))
