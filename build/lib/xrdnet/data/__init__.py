"""Datasets of simulated patterns: build and cache, augmentation, Lightning data modules."""
