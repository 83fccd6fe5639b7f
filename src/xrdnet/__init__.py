"""xrdnet: read crystal symmetry from powder X-ray diffraction patterns with neural networks.

    import xrdnet
    model = xrdnet.load_model()
    model.predict("scan.xrdml").probabilities

The API (xrdnet.api: load_model, simulate, Model, Prediction) is imported on first use, so
`import xrdnet` stays cheap (no torch, no pymatgen).
"""

__version__ = "0.1.0"

_API = ("load_model", "simulate", "Model", "Prediction")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from xrdnet import api

        return getattr(api, name)
    raise AttributeError(f"module 'xrdnet' has no attribute {name!r}")
