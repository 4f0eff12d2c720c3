# CosFairNet Table 5, "Sim" row: similarity on the initial layer only.
_base_ = ['./cosfairnet_cifar10c_5pct.py']
model = dict(dissimilar_layers=[])
