# Watermarked MNIST with watermark offsets up to 16 pixels (PGD tests 8 and
# 16), in its own folder.
_base_ = ['./watermarked_mnist.py']
data_root = 'data/watermarked_mnist_d16'
train_dataloader = dict(dataset=dict(max_offset=16))
val_dataloader = dict(dataset=dict(max_offset=16))
test_dataloader = dict(dataset=dict(max_offset=16))
