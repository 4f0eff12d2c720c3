# CosFairNet on the small ConvNet of SynthDigits (our backbone; the paper
# uses LfF's MLP for digits): similarity on the first convolution (the
# lowest-level features, as L1 of the MLP), dissimilarity on the last one
# (the highest-level features before GAP + linear), lambda_c = 0.1 as on
# Colored MNIST. See docs/methods/cosfairnet.md.
model = dict(
    type='CosFairNet',
    similar_layers=['backbone.layers.0'],
    dissimilar_layers=['backbone.layers.8'],
    lambda_sim=1.0,
    lambda_dissim=0.1,
    dissim_form='cos',
    sign_convention='text')
