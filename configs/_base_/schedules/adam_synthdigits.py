# SynthDigits: Colored MNIST's optimiser on a budget that trains on two CPU
# cores in about three minutes (Adam, lr 1e-3, 5K iterations of batch 256,
# about 107 epochs of the 12K training digits). Measured with the ConvNet
# (2026-12-01): 2 min 53 s; the unbiased copy reaches 97.5 % test accuracy.
_base_ = ['./adam_cmnist.py']
train_cfg = dict(max_iters=5000, val_interval=1000)
