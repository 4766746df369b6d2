"""Uncertainty: Monte Carlo sweeps, sensitivity, caching and scale-out."""
