"""cnnlib.performance, cnnlib.benchmark.crossover and cnnlib.viz.performance: the chapter-9
numbers are the tensors' own sizes and cnnlib's own counts,
the record arithmetic is checked by hand, and every figure draws what it is given."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.figure import Figure
from torch import nn

from cnnlib import benchmark, performance
from cnnlib.benchmark import LENET_LAYER, ConvCase, conv_calls
from cnnlib.counting import count_flops
from cnnlib.fft_conv import fast_fft_size
from cnnlib.im2col import im2col
from cnnlib.toeplitz import toeplitz_matrix
from cnnlib.viz import performance as viz_performance

matplotlib.use("Agg")


def _record(method, k, seconds, torch_seconds):
    return {"method": method, "kernel_size": k, "seconds": seconds,
            "torch_seconds": torch_seconds}


# --- records → tables ---------------------------------------------------------------------

def test_seconds_by_collects_methods_and_torch():
    records = [_record("fft", 3, 4.0, 1.0), _record("im2col", 3, 2.0, 1.2),
               _record("fft", 7, 4.5, 3.0), _record("im2col", 7, 9.0, 3.0),
               _record("im2col", 5, 5.0, 2.0)]
    table = benchmark.seconds_by(records)
    assert table == {"fft": {3: 4.0, 7: 4.5}, "im2col": {3: 2.0, 5: 5.0, 7: 9.0},
                     "torch": {3: 1.1, 5: 2.0, 7: 3.0}}
    assert list(table["im2col"]) == [3, 5, 7]  # sorted by x
    with pytest.raises(ValueError, match="at least one"):
        benchmark.seconds_by([])


def test_seconds_by_another_key():
    records = [{**_record("loop", 3, 1.0, 0.1), "size": 8},
               {**_record("loop", 3, 4.0, 0.2), "size": 16}]
    assert benchmark.seconds_by(records, "size") == {"loop": {8: 1.0, 16: 4.0},
                                              "torch": {8: 0.1, 16: 0.2}}


@pytest.mark.parametrize("fast, slow, expected", [
    ({3: 5, 5: 5, 7: 5, 9: 5}, {3: 1, 5: 4, 7: 6, 9: 8}, 7),      # overtakes at 7
    ({3: 5, 5: 5}, {3: 1, 5: 2}, None),                           # never
    ({3: 1, 5: 1}, {3: 2, 5: 2}, 3),                              # always
    ({3: 1, 5: 3, 7: 1}, {3: 2, 5: 2, 7: 2}, 7),                  # wins, loses, wins again
    ({3: 5, 5: 5, 7: 5}, {3: 1, 5: 5, 7: 6}, 7),                  # a tie is not a win
    ({3: 5, 7: 1, 11: 1}, {3: 1, 5: 9, 7: 2}, 7),                 # only x measured for both
])
def test_crossover(fast, slow, expected):
    assert benchmark.crossover({"a": fast, "b": slow}, "a", "b") == expected


def test_crossover_names_an_unknown_method():
    with pytest.raises(ValueError, match="'winograd' is not among"):
        benchmark.crossover({"fft": {3: 1}}, "winograd", "fft")


@given(a=st.floats(-3, 5), c=st.floats(1e-6, 1e3))
def test_loglog_slope_of_a_power_law(a, c):
    times = {x: c * x**a for x in (3, 5, 7, 11, 31)}
    assert performance.loglog_slope(times) == pytest.approx(a, abs=1e-9)


def test_loglog_slope_x_min_and_too_few_points():
    times = {8: 1.0, 16: 1.0, 32: 4.0, 64: 16.0}  # flat, then ∝ x²
    assert performance.loglog_slope(times) == pytest.approx(1.4)  # least squares over all four
    assert performance.loglog_slope(times, x_min=16) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="at least two points"):
        performance.loglog_slope(times, x_min=64)


def test_group_by_value_keeps_the_order_of_first_appearance():
    backends = {3: "oneDNN", 5: "oneDNN", 7: "ATen", 9: "oneDNN", 11: "ATen"}
    groups = performance.group_by_value(backends)
    assert groups == {"oneDNN": [3, 5, 9], "ATen": [7, 11]}
    assert list(groups) == ["oneDNN", "ATen"]
    assert {k: v for v, ks in groups.items() for k in ks} == backends  # nothing lost
    assert performance.group_by_value({}) == {}
    with pytest.raises(TypeError, match="mapping must be a mapping"):
        performance.group_by_value([("a", 1)])


def test_format_table_aligns_text_left_and_numbers_right():
    text = performance.format_table([{"m": "loop", "t": 12.5}, {"m": "im2col", "t": 0.25},
                            {"m": "fft", "t": None}],
                           [("method", "m", ""), ("ms", "t", ".2f")])
    assert text.split("\n") == ["method     ms", "------  -----", "loop    12.50",
                                "im2col   0.25", "fft         –"]


@pytest.mark.parametrize("n, text", [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"),
                                     (6 * 2**20 + 2**19, "6.5 MiB"), (150 * 2**30, "150 GiB"),
                                     (3 * 2**40, "3 TiB")])
def test_format_bytes(n, text):
    assert performance.format_bytes(n) == text


@pytest.mark.parametrize("n, text", [(576_000, "576 k"), (231_211_008, "231 M"),
                                     (1.85e9, "1.85 G"), (12, "12 ")])
def test_format_count(n, text):
    assert performance.format_count(n) == text


# --- FLOPs, rates and memory against the tensors themselves ---------------------------------

cases = st.builds(
    lambda n, c_in, c_out, size, k, s, p: ConvCase("case", n, c_in, c_out, max(size, k), k,
                                                    s, p),
    st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 9),
    st.integers(1, 4), st.integers(1, 3), st.integers(0, 2))


@given(case=cases)
def test_layer_flops_is_the_formula_and_cnnlib_counting(case):
    out = (case.size + 2 * case.padding - case.kernel_size) // case.stride + 1
    formula = 2 * case.batch * case.out_channels * out * out * case.in_channels \
        * case.kernel_size**2
    assert performance.layer_flops(case) == formula
    layer = nn.Conv2d(case.in_channels, case.out_channels, case.kernel_size, case.stride,
                      case.padding)
    assert count_flops(layer, (case.batch, case.in_channels, case.size, case.size)) == formula


@given(case=cases)
def test_memory_costs_are_the_sizes_of_the_real_tensors(case):
    x, w, _ = case.tensors()
    costs = performance.memory_costs(case)
    y = F.conv2d(x, w, stride=case.stride, padding=case.padding)
    cols = im2col(x, case.kernel_size, stride=case.stride, padding=case.padding)
    t = toeplitz_matrix(w, (case.size, case.size), stride=case.stride, padding=case.padding)
    grid = fast_fft_size(case.size + 2 * case.padding)
    x_hat = torch.fft.rfft2(F.pad(x, [case.padding] * 4), s=(grid, grid))
    w_hat = torch.fft.rfft2(w, s=(grid, grid))
    y_hat = torch.einsum("ncuv,ocuv->nouv", x_hat, w_hat)

    def size(t):
        return t.numel() * t.element_size()

    assert costs == {"input": size(x), "weights": size(w), "output": size(y),
                     "im2col matrix": size(cols), "Toeplitz matrix": size(t),
                     "FFT spectra": size(x_hat) + size(w_hat) + size(y_hat)}


def test_memory_costs_in_double_and_by_hand():
    vgg = ConvCase("vgg", 1, 64, 64, 56, 3, padding=1)
    costs = performance.memory_costs(vgg, element_size=8)
    assert costs["im2col matrix"] == 9 * costs["input"] == 9 * 64 * 56 * 56 * 8
    assert costs["Toeplitz matrix"] == (64 * 56 * 56) ** 2 * 8
    assert costs["FFT spectra"] == (64 + 64 * 64 + 64) * 60 * 31 * 2 * 8  # grid 58 → 60
    cols = im2col(torch.zeros(1, 64, 56, 56, dtype=torch.float64), 3, padding=1)
    assert cols.untyped_storage().nbytes() == costs["im2col matrix"]  # a copy, not a view


def test_memory_costs_argument_checks():
    with pytest.raises(TypeError, match="ConvCase"):
        performance.memory_costs((1, 3, 8, 32, 3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        performance.memory_costs(ConvCase("big kernel", 1, 1, 1, 4, 7))


def test_conv_calls_are_the_convolution_by_each_method():
    x, w, b = ConvCase("c", 2, 3, 4, 9, 3, stride=2, padding=1).tensors()
    calls = conv_calls(x, w, b, ("loop", "im2col", "fft", "toeplitz"), stride=2, padding=1)
    assert list(calls) == ["torch", "loop", "im2col", "fft", "toeplitz"]
    expected = F.conv2d(x, w, b, stride=2, padding=1)
    for call in calls.values():
        torch.testing.assert_close(call(), expected, rtol=1e-4, atol=1e-5)


def test_measure_rates_records():
    case = ConvCase("small", 1, 2, 3, 12, 3, padding=1)
    records = performance.measure_rates(case, ("im2col",), matmul_size=32, repeats=3)
    assert [r["name"] for r in records] == ["matmul", "torch", "im2col"]
    flops = {r["name"]: r["flops"] for r in records}
    assert flops == {"matmul": 2 * 32**3, "torch": performance.layer_flops(case),
                     "im2col": performance.layer_flops(case)}
    for r in records:
        assert r["seconds"] > 0 and r["fraction"] > 0
        assert r["gflops"] == pytest.approx(r["flops"] / r["seconds"] / 1e9)
    assert records[0]["fraction"] == pytest.approx(1.0)  # the peak against itself


def test_peak_memory_is_none_on_a_cpu_without_calling():
    calls = []
    assert performance.peak_memory(lambda: calls.append(1), "cpu") is None
    assert calls == []


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_peak_memory_counts_what_a_call_allocates():
    n = 1 << 20
    assert performance.peak_memory(lambda: torch.ones(n, device="cuda"), "cuda") >= 4 * n


# --- what the numbers are measured on -----------------------------------------------------

def test_timing_threads_sets_one_cpu_thread_and_restores():
    before = torch.get_num_threads()
    with performance.timing_threads("cpu"):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), performance.timing_threads(torch.device("cpu")):
        raise RuntimeError("a failing measurement")
    assert torch.get_num_threads() == before
    with performance.timing_threads("cuda"):  # a GPU's kernels do not use the CPU threads
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads must be a positive int"), \
            performance.timing_threads("cpu", threads=0):
        pass


def test_describe_device(device):
    text = performance.describe_device(device)
    assert text.startswith(device.type) and torch.__version__ in text
    if device.type == "cpu":
        assert f"{torch.get_num_threads()} thread(s)" in text
    else:
        assert torch.cuda.get_device_name(device) in text


def test_conv_backend(device, monkeypatch):
    x, w, _ = LENET_LAYER.tensors(device)
    name = performance.conv_backend(x, w)
    assert isinstance(name, str) and name
    if device.type == "cuda":
        assert name == "cuDNN"
    assert performance.conv_backend(x, w, stride=(1, 1), padding=(0, 0)) == name
    monkeypatch.delattr(torch._C, "_select_conv_backend")
    assert performance.conv_backend(x, w) == "unknown"


# --- figures ------------------------------------------------------------------------------

def test_plot_times_draws_every_method_on_log_axes():
    times = {"fft": {3: 4e-3, 7: 4e-3, 15: 4e-3}, "im2col": {3: 1e-3, 7: 7e-3, 15: 3e-2},
             "torch": {3: 2e-4, 7: 8e-4, 15: 3e-3}}
    fig = viz_performance.plot_times(times, "k", "title",
                                     crossovers={"fft < im2col": 7, "never": None},
                                     labels={"torch": "torch (oneDNN)"})
    assert isinstance(fig, Figure) and not plt.fignum_exists(fig.number)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    lines = [line for line in ax.get_lines() if line.get_label() in
             ("fft", "im2col", "torch (oneDNN)")]
    assert len(lines) == 3
    im2col_line = next(line for line in lines if line.get_label() == "im2col")
    assert list(im2col_line.get_ydata()) == pytest.approx([1.0, 7.0, 30.0])  # milliseconds
    vertical = [line for line in ax.get_lines() if list(line.get_xdata()) == [7, 7]]
    assert len(vertical) == 1  # the None crossover is skipped


def test_plot_rates_bars_and_peak():
    records = [{"name": "matmul", "gflops": 90.0, "fraction": 1.0},
               {"name": "torch", "gflops": 80.0, "fraction": 0.9},
               {"name": "fft", "gflops": 1.2, "fraction": 0.013}]
    fig = viz_performance.plot_rates(records, labels={"fft": "fft (effective)"})
    ax = fig.axes[0]
    assert [p.get_width() for p in ax.patches] == [80.0, 1.2]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["torch", "fft (effective)"]
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "90% of peak" in texts and "1.3% of peak" in texts
    with pytest.raises(ValueError, match="matmul"):
        viz_performance.plot_rates(records[1:])


def test_plot_memory_one_panel_per_layer():
    layers = {"LeNet": performance.memory_costs(LENET_LAYER),
              "VGG": performance.memory_costs(ConvCase("v", 1, 64, 64, 56, 3, padding=1))}
    fig = viz_performance.plot_memory(layers)
    assert len(fig.axes) == 2
    for ax, costs in zip(fig.axes, layers.values(), strict=True):
        assert [p.get_width() for p in ax.patches] == list(costs.values())
        assert ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="non-empty"):
        viz_performance.plot_memory({})


def test_method_colours_are_distinct():
    colours = list(viz_performance.METHOD_COLORS.values())
    assert len(set(colours)) == len(colours)
