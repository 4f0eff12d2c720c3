# LfF (Nam et al., NeurIPS 2020): f_b with GCE (q = 0.7), f_d with
# w(x) * CE, per-sample loss EMAs (alpha 0.7) normalised by the class max.
model = dict(type='LfF', q=0.7, ema_alpha=0.7)
