# CosFairNet's real-world schedule: Adam, lr 1e-3 (its §5, every data set);
# the number of iterations is not given: BiasEnsemble's 50K.
_base_ = ['./adam_50k.py']
optim_wrapper = dict(optimizer=dict(lr=1e-3))
