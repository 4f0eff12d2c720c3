# ReBias (Bahng et al., ICML 2020): per batch, every g in G descends
# CE(g) - lambda_g HSIC_1(f, g), then f descends CE(f) + lambda max_g
# HSIC_1(f, g) (Eq. 3, Algorithm 1; lambda = lambda_g = 1), with RBF kernels
# of radius 1 on the GAP features (Biased MNIST; the ImageNet and action
# configs add KernelRadiusHook or switch to logits).
model = dict(
    type='ReBias', lambda_f=1.0, lambda_g=1.0, sigma_f=1.0, sigma_g=1.0,
    hsic_on='features', aggregate='max', g_steps=1)
