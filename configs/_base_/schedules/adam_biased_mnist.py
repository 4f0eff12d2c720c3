# ReBias's Biased MNIST schedule (appendix): Adam, lr 1e-3, weight decay 1e-4,
# batch 256, 80 epochs, lr x0.1 every 20 epochs. Epochs of the local training
# split (215 iterations for the 55,000 MNIST training digits less the 5,000
# held out for validation).
optim_wrapper = dict(
    constructor='MultiModelOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='StepLR', by_epoch=True, step_size=20, gamma=0.1, end=80,
         convert_to_iter_based=True)
]
train_cfg = dict(
    type='DebiasIterBasedTrainLoop', max_epochs=80, val_interval_epochs=5)
auto_scale_lr = dict(base_batch_size=256, enable=False)
