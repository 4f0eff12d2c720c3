# CosFairNet on ResNet20 (Corrupted CIFAR-10). The paper names neither the
# layers nor lambda_c for this backbone: similarity on the first convolution
# (the lowest-level features), dissimilarity on the last convolution of the
# last stage (the highest-level ones), lambda_c = 0.1 as on Colored MNIST.
model = dict(
    type='CosFairNet',
    similar_layers=['backbone.conv1'],
    dissimilar_layers=['backbone.layer3.2.conv2'],
    lambda_sim=1.0,
    lambda_dissim=0.1,
    dissim_form='cos',
    sign_convention='text')
