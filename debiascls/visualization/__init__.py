"""Visualisers and vis backends (Grad-CAM overlays, accuracy heat-maps)."""
