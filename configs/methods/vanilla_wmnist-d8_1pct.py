_base_ = [
    '../_base_/models/pgd_convnet1.py',
    '../_base_/methods/vanilla.py',
    '../_base_/datasets/watermarked_mnist.py',
    '../_base_/schedules/sgd_pgd_mnist.py',
    '../_base_/default_runtime.py'
]
severity = '1pct'
