# PGD's Colored MNIST at difficulty 5e-4 (colour deviation; its Table 1
# uses 1e-4 and 5e-4), in its own folder.
_base_ = ['./pgd_cmnist.py']
data_root = 'data/pgd_cmnist_a5e-4'
train_dataloader = dict(dataset=dict(color_noise=5e-4))
val_dataloader = dict(dataset=dict(color_noise=5e-4))
test_dataloader = dict(dataset=dict(color_noise=5e-4))
