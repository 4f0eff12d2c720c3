# DisEnt's and BiasEnsemble's MLP for Colored MNIST (their module/mlp.py):
# 2352 -> 100 -> 100 -> 16 with ReLU, then a linear classifier; inputs scaled
# to [0, 1/255] as in LfF's MLP. DisEnt's heads take [z_i, z_b] (32 inputs,
# built by the algorithm from this classifier); BE's committee uses it as is.
_base_ = ['./mlp_cmnist.py']
classifier = dict(backbone=dict(hidden_dims=(100, 100, 16)))
