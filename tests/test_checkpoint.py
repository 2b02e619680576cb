"""cnnlib.checkpoint.fit_or_load: trains once, then returns exactly what that training gave;
anything that changes the result (weights, data, arguments, augmentation) trains anew."""

import pytest
import torch
from torch import nn

from cnnlib.checkpoint import cache_dir, fit_or_load

RECIPE = dict(epochs=1, batch_size=16, schedule="constant", lr=1e-2, precision="fp32",
              evals_per_epoch=1, progress=False)


def data(seed=0, n=64):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 4, 4, generator=gen)
    return x, (x.sum((1, 2, 3)) > 0).long()


def model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 2))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def entries(folder):
    return sorted(p.name for p in folder.glob("*.pt")) if folder.exists() else []


def test_the_second_call_loads_what_the_first_trained(cache):
    first = model()
    h1 = fit_or_load(first, data(), data(1), name="tiny", **RECIPE)
    assert not h1.cached and len(entries(cache)) == 1
    second = model()                                   # the same initial weights
    assert not torch.equal(second[1].weight, first[1].weight)
    h2 = fit_or_load(second, data(), data(1), name="tiny", **RECIPE)
    assert h2.cached and "loaded" in str(h2)
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert h2.numbers() == h1.numbers() and h2.train_seconds == h1.train_seconds
    x = data(2)[0]
    assert torch.equal(first(x), second(x))


def test_loading_says_which_entry_in_one_short_line(cache, capsys):
    fit_or_load(model(), data(), name="tiny", **RECIPE)
    recipe = {**RECIPE, "progress": True}
    fit_or_load(model(), data(), name="tiny", desc="a tiny net", **recipe)
    line = capsys.readouterr().out.strip()
    (entry,) = entries(cache)
    key8 = entry.removeprefix("tiny-")[:8]
    assert line.startswith(f"a tiny net: stored run tiny-{key8}… loaded (trained in ")
    assert line.endswith(" s)") and len(line) <= 88


def test_a_loaded_model_equals_a_fresh_training(cache):
    fit_or_load(model(), data(), name="tiny", **RECIPE)
    loaded, fresh = model(), model()
    fit_or_load(loaded, data(), name="tiny", **RECIPE)
    from cnnlib.training import fit
    fit(fresh, data(), **RECIPE)
    for a, b in zip(loaded.state_dict().values(), fresh.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("change", ["weights", "data", "lr", "epochs"])
def test_anything_that_changes_the_result_trains_anew(cache, change):
    fit_or_load(model(), data(), name="tiny", **RECIPE)
    kwargs = dict(RECIPE)
    m, d = model(), data()
    if change == "weights":
        m = model(seed=1)
    elif change == "data":
        d = (d[0].clone(), d[1].clone())
        d[0][0, 0, 0, 0] += 1e-3
    elif change == "lr":
        kwargs["lr"] = 2e-2
    else:
        kwargs["epochs"] = 2
    h = fit_or_load(m, d, name="tiny", **kwargs)
    assert not h.cached and len(entries(cache)) == 2


def test_an_augmentation_is_keyed_by_what_it_does(cache):
    def make(amount):
        def shift(batch):
            return batch + amount
        return shift

    assert not fit_or_load(model(), data(), name="t", augment=make(0.1), **RECIPE).cached
    assert fit_or_load(model(), data(), name="t", augment=make(0.1), **RECIPE).cached
    assert not fit_or_load(model(), data(), name="t", augment=make(0.2), **RECIPE).cached


def test_progress_and_label_do_not_change_the_key(cache):
    fit_or_load(model(), data(), name="tiny", **RECIPE)
    h = fit_or_load(model(), data(), name="tiny", desc="another label",
                    **{**RECIPE, "progress": True})
    assert h.cached


def test_off_trains_every_time_and_stores_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_CACHE", "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() is None
    assert not fit_or_load(model(), data(), name="tiny", **RECIPE).cached
    assert not fit_or_load(model(), data(), name="tiny", **RECIPE).cached
    assert not list(tmp_path.rglob("*.pt"))


def test_the_default_folder_is_in_the_home_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("CNNLIB_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "cnnlib" / "trained-models"


def test_a_damaged_entry_is_trained_again_and_replaced(cache):
    fit_or_load(model(), data(), name="tiny", **RECIPE)
    (path,) = cache.glob("*.pt")
    path.write_bytes(b"not a checkpoint")
    assert not fit_or_load(model(), data(), name="tiny", **RECIPE).cached
    assert fit_or_load(model(), data(), name="tiny", **RECIPE).cached


def test_an_unwritable_folder_still_trains(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("CNNLIB_CACHE", str(blocker / "cache"))  # cannot be created
    assert not fit_or_load(model(), data(), name="tiny", **RECIPE).cached
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("name", ["", "a/b", "../x", 3, None])
def test_bad_names_are_refused(cache, name):
    with pytest.raises(ValueError, match="name must be"):
        fit_or_load(model(), data(), name=name, **RECIPE)


def test_bad_models_are_refused(cache):
    with pytest.raises(TypeError, match="model"):
        fit_or_load("lenet", data(), name="tiny", **RECIPE)
