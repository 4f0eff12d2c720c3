# CosFairNet Table 5, "Dissim" row: dissimilarity on the later layer only.
_base_ = ['./cosfairnet_cifar10c_5pct.py']
model = dict(similar_layers=[])
