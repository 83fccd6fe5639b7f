"""X-ray diffraction physics: wavelengths, peak lists and 1D profiles. Knows nothing of torch."""
