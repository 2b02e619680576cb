"""The public API promised by the course design: every name exists at the top level."""

import cnnlib

CONTRACT = [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "lp_pool1d", "lp_pool2d", "conv_output_size",
    "conv_transpose_output_size", "receptive_field", "im2col", "toeplitz_matrix",
    "circulant_matrix", "shift_matrix", "get_device", "seed_everything",
]


def test_contract_names_are_exported():
    missing = [name for name in CONTRACT if not callable(getattr(cnnlib, name, None))]
    assert not missing, f"cnnlib lacks {missing}"


def test_all_lists_only_real_names():
    assert sorted(cnnlib.__all__) == sorted(set(cnnlib.__all__))
    assert all(hasattr(cnnlib, name) for name in cnnlib.__all__)


def test_viz_exports_the_explorer_api():
    from cnnlib import viz

    assert sorted(viz.__all__) == sorted(set(viz.__all__))
    assert all(hasattr(viz, name) for name in viz.__all__)
    assert viz.explorer is viz.widgets.explorer and viz.StaticExplorer is viz.widgets.StaticExplorer
    assert viz.NumberBox is viz.live.NumberBox  # the live controls live in cnnlib.viz.live
