"""Latent-factor models on one scikit-learn interface."""
