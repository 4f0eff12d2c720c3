# BiasEnsemble's real-world schedule (BFFHQ, Dogs & Cats; IE builds on it):
# Adam, lr 1e-4, no weight decay, 50K iterations, evaluation every 500
# (its valid_freq). IE's own lr and iterations are not published.
optim_wrapper = dict(
    constructor='MultiModelOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=0))
param_scheduler = []
train_cfg = dict(
    type='DebiasIterBasedTrainLoop', max_iters=50000, val_interval=500)
auto_scale_lr = dict(base_batch_size=64, enable=False)
