# ReBias's Biased MNIST schedule for LearnedMixin+H: G is pre-trained for
# 5 epochs first (its n_g_pretrain_epochs), then f trains the usual 80
# epochs, its lr x0.1 every 20 of them (the step counter starts with f).
_base_ = ['./adam_biased_mnist.py']
_iters_per_epoch = 215
param_scheduler = [
    dict(type='StepLR', by_epoch=False,
         begin=5 * _iters_per_epoch, step_size=20 * _iters_per_epoch,
         gamma=0.1)
]
train_cfg = dict(max_iters=85 * _iters_per_epoch)
