_base_ = [
    '../_base_/models/pgd_convnet1.py',
    '../_base_/methods/pgd.py',
    '../_base_/datasets/watermarked_mnist_d16.py',
    '../_base_/schedules/sgd_pgd_mnist_2stage.py',
    '../_base_/default_runtime.py'
]
severity = '1pct'
