"""Template matching: find a small patch in an image with one convolution (and two more).

Sweeping a template ``t`` (``h×w``) over an image ``x`` and summing products is a
cross-correlation, ``t ⋆ x = conv2d(x, t)``. Its maximum is *not* where the image looks most
like the template: a window scores ``Σ x·t``, which grows with the window's brightness and
contrast, so a bright region beats the true match. **Normalised cross-correlation** (NCC)
divides that out. For the window ``x_ij`` whose top-left corner is ``(i, j)``:

    NCC[i, j] = Σ (x_ij − mean x_ij)(t − mean t) / (‖x_ij − mean x_ij‖ · ‖t − mean t‖)

the cosine between the mean-removed window and the mean-removed template, in ``[−1, 1]``, and
``1`` exactly where the window is an affine copy ``α·t + β`` (``α > 0``) of the template. It
needs three convolutions:

- the template made zero-mean and unit-norm, ``t̂ = (t − mean t)/‖t − mean t‖``; since
  ``Σ t̂ = 0``, ``conv2d(x, t̂)`` already equals ``Σ (x_ij − mean x_ij) t̂`` (the numerator);
- the local sums ``S₁ = conv2d(x, 1)`` and ``S₂ = conv2d(x², 1)`` with an all-ones ``h×w``
  kernel give each window's norm, ``‖x_ij − mean x_ij‖² = S₂ − S₁²/(h·w)``.

Windows with no variation (a flat region) have no defined NCC; they score 0. The sums are
taken in float64, so ``S₂ − S₁²/n`` does not lose the digits float32 would.
"""

from __future__ import annotations

import torch

from ._validate import check_float_tensor, check_ndim, check_same_device
from .conv import conv2d

__all__ = [
    "best_match",
    "cross_correlation_scores",
    "normalize_template",
    "normalized_cross_correlation",
]


def _check(image, template) -> None:
    check_float_tensor("image", image)
    check_float_tensor("template", template)
    check_ndim("image", image, (2,), "(H, W)")
    check_ndim("template", template, (2,), "(h, w)")
    check_same_device(image=image, template=template)
    (H, W), (h, w) = image.shape, template.shape
    if h > H or w > W:
        raise ValueError(f"template must fit inside the image: template {h}×{w}, image {H}×{W}")


def normalize_template(template: torch.Tensor) -> torch.Tensor:
    """``(t − mean t)/‖t − mean t‖``: zero mean, unit norm, same shape ``(h, w)``.

    Raises ``ValueError`` for a constant template (nothing to match).
    """
    check_float_tensor("template", template)
    centred = template - template.mean()
    norm = torch.linalg.vector_norm(centred)
    if norm == 0:
        raise ValueError("template must not be constant: a flat patch matches every flat "
                         "region equally; cut a patch with some structure")
    return centred / norm


def cross_correlation_scores(image: torch.Tensor, template: torch.Tensor) -> torch.Tensor:
    """Plain (unnormalised) matching scores ``Σ x_ij · t``: ``conv2d(x, t)``.

    ``image: (H, W)``, ``template: (h, w)`` → ``(H − h + 1, W − w + 1)``; entry ``(i, j)`` is the
    score of the window with top-left corner ``(i, j)``.
    """
    _check(image, template)
    return conv2d(image[None, None], template[None, None])[0, 0]


def normalized_cross_correlation(image: torch.Tensor, template: torch.Tensor) -> torch.Tensor:
    """NCC of every window with the template, in ``[−1, 1]`` (see the module docstring).

    ``image: (H, W)``, ``template: (h, w)`` (not constant) → ``(H − h + 1, W − w + 1)``, same
    dtype and device as ``image``; 0 where a window is flat.
    """
    _check(image, template)
    x = image.double()[None, None]
    t_hat = normalize_template(template.double())
    ones = torch.ones_like(t_hat)
    numerator = conv2d(x, t_hat[None, None])[0, 0]
    s1 = conv2d(x, ones[None, None])[0, 0]
    s2 = conv2d(x * x, ones[None, None])[0, 0]
    window_norm = (s2 - s1 * s1 / t_hat.numel()).clamp_min(0).sqrt()
    flat = window_norm <= 1e-12 * (1 + s2.abs().sqrt())
    ncc = torch.where(flat, torch.zeros_like(numerator),
                      numerator / torch.where(flat, torch.ones_like(window_norm), window_norm))
    return ncc.clamp(-1, 1).to(image.dtype)


def best_match(scores: torch.Tensor) -> tuple[int, int]:
    """``(row, col)`` of the largest score: the top-left corner of the best window."""
    check_ndim("scores", scores, (2,), "(H_out, W_out)")
    index = int(torch.argmax(scores))
    return index // scores.shape[1], index % scores.shape[1]
