# DisEnt (Lee et al., NeurIPS 2021): intrinsic and bias encoders, heads on
# [z_i, z_b], W(z) from the heads' loss EMAs (alpha 0.7), GCE (q 0.7) for the
# bias branch, the feature swap after curr_step. Colored MNIST's weights
# (run_cmnist_ours.sh: lambda_swap 1, lambda_dis_align 10, lambda_swap_align
# 10); the other data sets' leaf configs set theirs.
model = dict(
    type='DisEnt', curr_step=10000, lambda_swap=1.0, lambda_dis_align=10.0,
    lambda_swap_align=10.0, q=0.7, ema_alpha=0.7)
