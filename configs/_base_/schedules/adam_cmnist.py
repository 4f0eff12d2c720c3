# LfF's Colored MNIST schedule (alinlab/LfF config.py): Adam, lr 1e-3, no
# weight decay, 23.5K iterations (235 x 100: 100 epochs of its 60,000
# digits in batches of 256), evaluated every 235 iterations (one epoch).
optim_wrapper = dict(
    constructor='MultiModelOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=0))
param_scheduler = []
train_cfg = dict(
    type='DebiasIterBasedTrainLoop', max_iters=23500, val_interval=235)
auto_scale_lr = dict(base_batch_size=256, enable=False)
