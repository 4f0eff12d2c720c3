# CosFairNet on LfF's 3-hidden-layer MLP (Colored MNIST). Its layer ablation
# (supplementary Table 5) is on this MLP: similarity on the first hidden layer
# (L1, the "initial" layer) and dissimilarity on the second (L2: the best
# single dissimilarity layer there, 78.03 at 99 %); lambda_c = 0.1 (best at
# every ratio of its lambda sweep). See docs/methods/cosfairnet.md.
model = dict(
    type='CosFairNet',
    similar_layers=['backbone.layers.0'],
    dissimilar_layers=['backbone.layers.2'],
    lambda_sim=1.0,
    lambda_dissim=0.1,
    dissim_form='cos',
    sign_convention='text')
