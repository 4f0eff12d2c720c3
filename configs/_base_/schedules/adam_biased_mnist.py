# ReBias's Biased MNIST schedule (appendix): Adam, lr 1e-3, weight decay 1e-4,
# batch 256, 80 epochs, lr x0.1 every 20 epochs. Our loop counts iterations:
# one epoch of the 55,000 training digits (MNIST train less the 5,000 held
# out as the validation split) is 215 iterations of 256.
_iters_per_epoch = 215
optim_wrapper = dict(
    constructor='MultiModelOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='StepLR', by_epoch=False, step_size=20 * _iters_per_epoch,
         gamma=0.1)
]
train_cfg = dict(
    type='DebiasIterBasedTrainLoop',
    max_iters=80 * _iters_per_epoch,
    val_interval=5 * _iters_per_epoch)
auto_scale_lr = dict(base_batch_size=256, enable=False)
