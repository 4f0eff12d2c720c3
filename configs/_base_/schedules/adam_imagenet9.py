# ReBias's 9-class ImageNet schedule (main_imagenet.py, appendix): Adam,
# lr 1e-3, weight decay 1e-4, batch 128, 120 epochs, cosine annealing.
optim_wrapper = dict(
    constructor='MultiModelOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, T_max=120, end=120,
         convert_to_iter_based=True)
]
train_cfg = dict(
    type='DebiasIterBasedTrainLoop', max_epochs=120, val_interval_epochs=5)
auto_scale_lr = dict(base_batch_size=128, enable=False)
