"""xrdnet: read crystal symmetry from powder X-ray diffraction patterns with neural networks."""

__version__ = "0.1.0"
