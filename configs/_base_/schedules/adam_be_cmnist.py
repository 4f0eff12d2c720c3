# BiasEnsemble's and DisEnt's Colored MNIST schedule (their cmnist scripts):
# Adam, lr 0.01, no weight decay, 50K iterations of batch 256, evaluated
# every 500 (valid_freq); BE's committee uses the same optimizer.
_base_ = ['./adam_50k.py']
optim_wrapper = dict(optimizer=dict(lr=1e-2))
auto_scale_lr = dict(base_batch_size=256)
