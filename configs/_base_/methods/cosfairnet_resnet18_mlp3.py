# CosFairNet on ResNet18 + 3-layer MLP head (BFFHQ, Dogs & Cats, BAR): the
# constraints act on the head (supplementary Tables 3-4 tune lambda_c "on the
# second head MLP layer"): similarity on the first head layer, dissimilarity
# on the second. lambda_c is set per data set and ratio by the leaf configs.
model = dict(
    type='CosFairNet',
    similar_layers=['head.fc1'],
    dissimilar_layers=['head.fc2'],
    lambda_sim=1.0,
    lambda_dissim=1e-6,
    dissim_form='cos',
    sign_convention='text')
