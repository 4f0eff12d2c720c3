# SynthDigits: Colored MNIST's optimiser on a budget that trains on two CPU
# cores in a few minutes (Adam, lr 1e-3, 3K iterations of batch 256).
_base_ = ['./adam_cmnist.py']
train_cfg = dict(max_iters=3000, val_interval=500)
