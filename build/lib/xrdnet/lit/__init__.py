"""LightningModules: loss, metrics and figures around the pure torch networks."""
