"""Template matching against a window-by-window definition (numpy) and hand-made cases."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from cnnlib.template_matching import (
    best_match,
    cross_correlation_scores,
    normalize_template,
    normalized_cross_correlation,
)
from cnnlib.viz.template_matching import show_matches


def _ncc_by_definition(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The cosine between each mean-removed window and the mean-removed template."""
    h, w = t.shape
    tc = t - t.mean()
    out = np.zeros((x.shape[0] - h + 1, x.shape[1] - w + 1))
    for a in range(out.shape[0]):
        for b in range(out.shape[1]):
            win = x[a:a + h, b:b + w]
            wc = win - win.mean()
            denom = np.linalg.norm(wc) * np.linalg.norm(tc)
            out[a, b] = 0.0 if np.linalg.norm(wc) < 1e-9 else (wc * tc).sum() / denom
    return out


@st.composite
def image_and_template(draw):
    H, W = draw(st.integers(2, 9)), draw(st.integers(2, 9))
    h, w = draw(st.integers(1, H)), draw(st.integers(1, W))
    assume(h * w >= 2)  # a 1×1 template is constant: nothing to match
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(H, W, generator=g, dtype=torch.float64)
    t = torch.rand(h, w, generator=g, dtype=torch.float64)
    return x, t


@given(image_and_template())
def test_ncc_equals_the_definition(pair):
    x, t = pair
    ncc = normalized_cross_correlation(x, t)
    expected = torch.from_numpy(_ncc_by_definition(x.numpy(), t.numpy()))
    torch.testing.assert_close(ncc, expected, rtol=1e-9, atol=1e-9)
    assert ncc.abs().max() <= 1


@given(image_and_template())
def test_plain_scores_are_torch_conv2d(pair):
    x, t = pair
    torch.testing.assert_close(cross_correlation_scores(x, t),
                               F.conv2d(x[None, None], t[None, None])[0, 0])


@given(image_and_template(), st.floats(0.1, 10), st.floats(-5, 5))
def test_a_cut_patch_is_found_at_its_origin_even_after_brightness_changes(pair, gain, offset):
    x, t = pair
    h, w = t.shape
    a, b = x.shape[0] - h, x.shape[1] - w  # cut the patch at the bottom-right corner
    patch = x[a:, b:]
    ncc = normalized_cross_correlation(gain * x + offset, patch)
    assert ncc[a, b] == pytest.approx(1.0, abs=1e-9)
    assert ncc.max() == pytest.approx(1.0, abs=1e-9)


def test_hand_made_cases():
    x = torch.zeros(6, 7)
    x[2:4, 3:5] = torch.tensor([[1.0, 0.0], [0.0, 1.0]])      # a diagonal pattern
    x[0:2, 0:2] = torch.tensor([[0.0, 9.0], [9.0, 0.0]])      # a bright anti-diagonal
    t = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    ncc = normalized_cross_correlation(x, t)
    assert best_match(ncc) == (2, 3)
    assert ncc[0, 0] == pytest.approx(-1.0) and ncc[2, 3] == pytest.approx(1.0)
    assert ncc[5 - 1, 0] == 0  # a flat window scores 0
    assert best_match(cross_correlation_scores(x, t)) != (2, 3)  # brightness wins
    t_hat = normalize_template(t)
    assert t_hat.sum() == pytest.approx(0.0, abs=1e-7)
    assert torch.linalg.vector_norm(t_hat) == pytest.approx(1.0)
    assert normalized_cross_correlation(x, t).dtype == torch.float32


def test_show_matches_draws_one_box_per_match_at_its_window():
    fig = show_matches(torch.rand(20, 30), (4, 6), {"plain": (1, 2), "NCC": (10, 20)})
    boxes = {p.get_gid(): p for p in fig.axes[0].patches}
    assert set(boxes) == {"plain", "NCC"}
    assert boxes["NCC"].get_xy() == (19.5, 9.5)  # pixel centres sit on integers
    assert (boxes["NCC"].get_width(), boxes["NCC"].get_height()) == (6, 4)


def test_errors_speak_to_the_student():
    with pytest.raises(ValueError, match="template must not be constant"):
        normalized_cross_correlation(torch.rand(5, 5), torch.ones(2, 2))
    with pytest.raises(ValueError, match="template must fit inside the image"):
        normalized_cross_correlation(torch.rand(3, 3), torch.rand(4, 2))
    with pytest.raises(ValueError, match="image must be 2-D"):
        cross_correlation_scores(torch.rand(1, 3, 3), torch.rand(2, 2))
    with pytest.raises(TypeError, match="floating-point"):
        cross_correlation_scores(torch.ones(3, 3, dtype=torch.int64), torch.rand(2, 2))
    with pytest.raises(ValueError, match="scores must be 2-D"):
        best_match(torch.rand(3))
