# ReBias with the median heuristic for the RBF radii, recomputed every epoch
# on a quarter of its batches (9-class ImageNet).
_base_ = ['./rebias.py']
custom_hooks = [dict(type='KernelRadiusHook', interval=None, fraction=0.25)]
