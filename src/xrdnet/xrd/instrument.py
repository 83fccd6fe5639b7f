"""Diffractometer physics of a powder peak: widths, asymmetry, displacement and texture, as formulas.

All angles are degrees 2θ unless named otherwise; θ is half of 2θ.

Widths (FWHM, degrees 2θ) follow the Thompson-Cox-Hastings pseudo-Voigt (TCH, J. Appl. Cryst. 20
(1987) 79): the Gaussian parts add in quadrature, the Lorentzian parts add linearly, and the
pseudo-Voigt's FWHM and Lorentzian fraction η follow from the two by TCH's polynomials.
- instrument resolution, Gaussian (Caglioti, Nucl. Instrum. 3 (1958) 223):
  H_G,inst² = U tan²θ + V tanθ + W, with U, V, W in deg² (2θ);
- microstrain ε (a fraction, e.g. 1e-3), Gaussian: H_strain = 4 ε tanθ radians;
- crystallite size L, Lorentzian (Scherrer): H_size = K λ / (L cos θ) radians.
Axial divergence makes low-angle peaks tail towards lower angles; it is approximated here by a split
profile (left FWHM H (1 + a), right FWHM H (1 − a), same height and area as the symmetric peak),
with a = A / tan 2θ: the first-order cot 2θ dependence of the axial-divergence shift, which changes
sign at 2θ = 90° as the real aberration does (Finger-Cox-Jephcoat is not modelled).
"""

from __future__ import annotations

import numpy as np

# TCH: FWHM of the pseudo-Voigt approximating a Voigt of Gaussian H_G and Lorentzian H_L (coefficients of
# H_G^5, H_G^4 H_L, ..., H_L^5), and η as a polynomial in q = H_L / H
_TCH_FWHM = (1.0, 2.69269, 2.42843, 4.47163, 0.07842, 1.0)
_TCH_ETA = (1.36603, -0.47719, 0.11116)
# split-profile asymmetry is capped so the narrow side keeps a width (a = 1 would be a step)
MAX_ASYMMETRY = 0.6


def _tan_theta(two_theta_deg) -> np.ndarray:
    return np.tan(np.radians(np.asarray(two_theta_deg, dtype=float) / 2.0))


def caglioti_fwhm_deg(two_theta_deg, u: float, v: float, w: float) -> np.ndarray:
    """Instrument FWHM (degrees 2θ) = sqrt(U tan²θ + V tanθ + W), U, V, W in deg²; 0 where that is negative."""
    return np.sqrt(gaussian_fwhm_sq_deg2(_tan_theta(two_theta_deg), (u, v, w), 0.0))


def microstrain_fwhm_deg(two_theta_deg, strain: float) -> np.ndarray:
    """Microstrain broadening FWHM (degrees 2θ) = 4 ε tanθ radians, ε the strain (a fraction)."""
    return np.degrees(4.0 * strain * _tan_theta(two_theta_deg))


def gaussian_fwhm_sq_deg2(tan_theta: np.ndarray, caglioti_uvw: tuple[float, float, float] | None,
                          strain: float) -> np.ndarray:
    """Square (deg²) of the Gaussian FWHM: the Caglioti resolution and microstrain in quadrature, from tanθ.

    max(U t² + V t + W, 0) + (4 ε t · 180/π)²: both parts are polynomials in t = tanθ, so this is a
    handful of array operations (it runs on every grid point of every instrument render).
    """
    strain_sq = (4.0 * strain * 180.0 / np.pi) ** 2  # microstrain FWHM² per tan²θ, deg²
    if caglioti_uvw is None:
        return strain_sq * tan_theta * tan_theta
    u, v, w = caglioti_uvw
    result = u * tan_theta
    result += v
    result *= tan_theta
    result += w
    result = np.maximum(result, 0.0)
    if strain_sq:
        result += strain_sq * tan_theta * tan_theta
    return result


def tch_fwhm(gaussian_fwhm, lorentzian_fwhm) -> np.ndarray:
    """FWHM of the TCH pseudo-Voigt: (Σ_k c_k H_G^(5−k) H_L^k)^(1/5), any one unit."""
    g = np.asarray(gaussian_fwhm, dtype=float)
    lo = np.asarray(lorentzian_fwhm, dtype=float)
    # Horner in H_G with the powers of H_L as coefficients: few array operations, no float powers but the last
    total = _TCH_FWHM[0] * g + _TCH_FWHM[1] * lo
    lo_power = lo
    for c in _TCH_FWHM[2:]:
        total *= g
        lo_power = lo_power * lo
        total += c * lo_power
    return total ** 0.2


def tch_eta(fwhm, lorentzian_fwhm) -> np.ndarray:
    """Lorentzian fraction η of the TCH pseudo-Voigt of this FWHM: a polynomial in q = H_L / H, within 0..1."""
    fwhm = np.asarray(fwhm, dtype=float)
    lo = np.asarray(lorentzian_fwhm, dtype=float)
    q = np.divide(lo, fwhm, out=np.zeros(np.broadcast(fwhm, lo).shape), where=fwhm > 0)
    return np.clip(q * (_TCH_ETA[0] + q * (_TCH_ETA[1] + q * _TCH_ETA[2])), 0.0, 1.0)


def tch_pseudo_voigt(gaussian_fwhm, lorentzian_fwhm) -> tuple[np.ndarray, np.ndarray]:
    """(FWHM, η) of the TCH pseudo-Voigt for Gaussian and Lorentzian FWHMs (any one unit; η the Lorentzian fraction)."""
    total = tch_fwhm(gaussian_fwhm, lorentzian_fwhm)
    return total, tch_eta(total, lorentzian_fwhm)


def axial_asymmetry(two_theta_deg, strength: float) -> np.ndarray:
    """Split-profile asymmetry a = A / tan 2θ (capped at ±MAX_ASYMMETRY): left FWHM H (1 + a), right H (1 − a)."""
    two_theta = np.radians(np.asarray(two_theta_deg, dtype=float))
    return np.clip(strength / np.tan(two_theta), -MAX_ASYMMETRY, MAX_ASYMMETRY)


def displacement_shift_deg(two_theta_deg, displacement_mm: float, radius_mm: float) -> np.ndarray:
    """Peak shift (degrees 2θ) of a sample displaced by s (mm, + towards the source side above the focusing
    circle) on a goniometer of radius R (mm): Δ2θ = −2 s cosθ / R radians (Bragg-Brentano)."""
    theta = np.radians(np.asarray(two_theta_deg, dtype=float) / 2.0)
    return np.degrees(-2.0 * displacement_mm * np.cos(theta) / radius_mm)


def march_dollase_weight(cos_alpha, r: float) -> np.ndarray:
    """March-Dollase factor W = (r² cos²α + sin²α / r)^(−3/2) of a reflection whose normal makes angle α with
    the preferred direction; r < 1: plates lying flat (those reflections stronger), r > 1: needles; r = 1: none.
    Normalized: its mean over a random orientation (cos α uniform in 0..1) is 1."""
    c2 = np.asarray(cos_alpha, dtype=float) ** 2
    return (r * r * c2 + (1.0 - c2) / r) ** -1.5
