# CosFairNet on the small ConvNet of SynthDigits (our backbone; the paper
# uses LfF's MLP for digits): the MLP's settings, with similarity on the
# first convolution (the lowest-level features, as L1 of the MLP) and
# dissimilarity on the last one (the highest-level features before GAP +
# linear). See docs/methods/cosfairnet.md.
_base_ = ['./cosfairnet_mlp.py']
model = dict(
    similar_layers=['backbone.layers.0'],
    dissimilar_layers=['backbone.layers.8'])
