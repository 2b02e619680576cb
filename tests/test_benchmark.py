"""The timing helpers run, return well-formed records and find a crossover correctly (no
timing is asserted: times depend on the machine)."""

import json
import time

import pytest
import torch

from cnnlib.benchmark import (
    ConvCase,
    OtherLoad,
    compare_methods,
    crossover,
    kernel_size_sweep,
    measure,
    time_function,
    time_functions,
)


def test_measure_interleaves_rounds_and_counts_calls():
    calls = []
    samples = measure({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                      repeats=4, warmup=2, min_sample_s=0)
    assert {k: len(v) for k, v in samples.items()} == {"a": 4, "b": 4}
    assert all(t >= 0 for v in samples.values() for t in v)
    # 2 warm-up rounds, then forward and reverse order in turn
    assert calls == ["a", "b"] * 2 + ["a", "b", "b", "a", "a", "b", "b", "a"]


def test_fast_functions_are_called_several_times_per_sample():
    """timeit's rule: a sample of a fast call lasts at least min_sample_s."""
    calls = {"fast": 0, "slow": 0}

    def fast():
        calls["fast"] += 1

    def slow():
        calls["slow"] += 1
        time.sleep(0.02)

    samples = measure({"fast": fast, "slow": slow}, repeats=2, warmup=1, min_sample_s=0.01)
    assert calls["slow"] == 1 + 2  # one warm-up call, one call per sample
    assert calls["fast"] >= 1 + 2 * 2
    assert all(t < 0.01 for t in samples["fast"])  # seconds per call, not per sample


def test_budget_shrinks_the_number_of_rounds():
    samples = measure({"slow": lambda: torch.ones(10).sum()}, repeats=1000, warmup=1,
                      budget_s=0.0)
    assert len(samples["slow"]) == 3


def test_time_function_is_a_median():
    assert time_function(lambda: None, repeats=5) >= 0
    times = time_functions({"x": lambda: None, "y": lambda: sum(range(1000))}, repeats=3)
    assert set(times) == {"x", "y"}


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"repeats": 0}, "repeats must be a positive int"),
    ({"warmup": -1}, "warmup must be a non-negative int"),
])
def test_measure_argument_checks(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        measure({"f": lambda: None}, **kwargs)


def test_compare_methods_records():
    case = ConvCase("tiny", 1, 2, 3, 8, 3, padding=1)
    records = compare_methods([case], ["loop", "im2col", "fft", "toeplitz"], repeats=2)
    assert [r["method"] for r in records] == ["loop", "im2col", "fft", "toeplitz"]
    for r in records:
        assert r["name"] == "tiny" and r["rounds"] == 2 and r["threads"] >= 1
        assert r["seconds"] > 0 and r["torch_seconds"] > 0 and r["ratio"] > 0
        assert r["max_abs_error"] < 1e-4  # every method computed the right answer
        assert r["other_load"] is None or 0 <= r["other_load"] <= 1
    json.dumps(records)  # plain data, ready to save


def test_compare_methods_rejects_unknown_method():
    with pytest.raises(ValueError, match="methods must be among"):
        compare_methods([ConvCase("tiny", 1, 1, 1, 5, 3)], ["winograd"])


def test_kernel_size_sweep_keeps_output_size():
    records = kernel_size_sweep([3, 5], size=12, channels=1, out_channels=2, repeats=1,
                                budget_s=None)
    assert [(r["kernel_size"], r["method"]) for r in records] == [
        (3, "fft"), (3, "im2col"), (5, "fft"), (5, "im2col")]
    assert {r["padding"] for r in records} == {1, 2}


def test_crossover():
    def times(*pairs):
        return {"fft": {k: t for k, t in pairs}, "torch": {k: 1.0 for k, _ in pairs}}

    assert crossover(times((3, 5.0), (7, 1.2), (11, 0.8), (15, 0.5)), "fft", "torch") == 11
    # a faster point followed by a slower one does not count: faster for every larger k
    assert crossover(times((3, 0.9), (7, 1.1), (11, 0.7)), "fft", "torch") == 11
    assert crossover(times((3, 2.0), (7, 1.5)), "fft", "torch") is None


def test_conv_case_tensors_are_reproducible():
    case = ConvCase("c", 2, 3, 4, 6, 3)
    x1, w1, b1 = case.tensors(seed=5)
    x2, w2, b2 = case.tensors(seed=5)
    assert torch.equal(x1, x2) and torch.equal(w1, w2) and torch.equal(b1, b2)
    assert x1.shape == (2, 3, 6, 6) and w1.shape == (4, 3, 3, 3) and b1.shape == (4,)


def test_other_load_subtracts_our_own_cpu_time(monkeypatch):
    """Over 1 s on 2 cores, 1.5 CPU-seconds were busy and 0.6 of them were ours: the others
    used 0.9 of the 2 available, 45%."""
    import types

    import cnnlib.benchmark as bench

    readings = {"wall": iter([100.0, 101.0]), "busy": iter([50.0, 51.5]),
                "own": iter([3.0, 3.6])}
    monkeypatch.setattr(bench, "time", types.SimpleNamespace(
        perf_counter=lambda: next(readings["wall"])))
    monkeypatch.setattr(OtherLoad, "_busy_seconds", staticmethod(lambda: next(readings["busy"])))
    monkeypatch.setattr(OtherLoad, "_own_seconds", staticmethod(lambda: next(readings["own"])))
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    with OtherLoad() as load:
        pass
    assert load.fraction == pytest.approx(0.45)


def test_other_load_reads_this_machine():
    # /proc/stat counts in clock ticks (10 ms): over a block of a few milliseconds one tick
    # is most of the interval, so the block lasts long enough for ticks not to matter
    with OtherLoad() as load:
        end = time.perf_counter() + 0.5
        while time.perf_counter() < end:
            sum(i * i for i in range(1000))
    # other processes can at most fill every core
    assert load.fraction is None or 0 <= load.fraction <= 1.1
