# LearnedMixin+H (Clark et al., EMNLP 2019) with ReBias's biased-by-design G:
# G pre-trained with CE for model.pretrain_iters iterations (set by the
# benchmark's config: ReBias pre-trains 5 epochs on Biased MNIST, 30 on
# ImageNet and Kinetics), then frozen while f trains on the learned mixture
# with the entropy penalty (w = 0.36, ReBias's value).
model = dict(type='LearnedMixin', entropy_weight=0.36)
