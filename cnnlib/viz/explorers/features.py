"""Browse what a trained CNN computes: its feature maps for a digit, and its filters (ch. 7).

For each convolution of ``model.features`` the explorer offers the convolution's output
after its activation (what flows on to the next layer) and, for each pooling layer, the
pooled maps. Controls:

- ``layer``: e.g. ``"conv 1 + ReLU"``, ``"pool 1"``, ``"conv 2 + ReLU"``, ``"pool 2"``;
- ``digit``: which of the given images goes through the network;
- ``view``: ``"feature maps"`` (one tile per channel, each scaled to its own range: bright =
  strong response) or ``"filters"`` (the weights of the layer's convolution — for a pooling
  layer, of the convolution before it — as a grid: one column per output channel (filter),
  one row per input channel, red positive, blue negative, one colour scale for the layer).

The input digit is drawn small beside the feature maps. The filters do not depend on the
input: in the ``"filters"`` view no digit is drawn and the live ``digit`` control is disabled;
a pooling layer's title says whose filters it shows.
"""

from __future__ import annotations

import torch
from torch import nn

from ...models import activations
from .. import widgets
from ..figure_output import legible_fontsize
from ..images import SIGNED_CMAP, to_numpy_image
from ..training import montage

__all__ = ["VIEWS", "feature_explorer", "feature_layers", "render_features"]

VIEWS = ("feature maps", "filters")
_POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def feature_layers(model: nn.Module) -> dict[str, tuple[str, str]]:
    """``{label: (recorded layer name, convolution name)}`` for the layers worth seeing.

    Reads ``model.features`` in order: a ``Conv2d`` followed by an activation is recorded
    after the activation (label ``"conv k + ReLU"``), one without (or followed by batch
    norm) is recorded itself; pooling layers are recorded as ``"pool k"``.
    """
    features = getattr(model, "features", None)
    if not isinstance(features, nn.Sequential) or len(features) == 0:
        raise ValueError("model must have a non-empty nn.Sequential `features` (the "
                         "convolutional part), like cnnlib.models' LeNet and VGG")
    children = list(features.named_children())
    found: dict[str, tuple[str, str]] = {}
    conv_count = pool_count = 0
    last_conv = ""
    for i, (name, module) in enumerate(children):
        if isinstance(module, nn.Conv2d):
            conv_count += 1
            last_conv = f"features.{name}"
            nxt = children[i + 1] if i + 1 < len(children) else None
            if nxt is not None and not isinstance(nxt[1], (nn.Conv2d, *_POOLS, nn.BatchNorm2d)):
                found[f"conv {conv_count} + {type(nxt[1]).__name__}"] = (
                    f"features.{nxt[0]}", last_conv)
            elif nxt is not None and isinstance(nxt[1], nn.BatchNorm2d) and i + 2 < len(children):
                after = children[i + 2]
                found[f"conv {conv_count} + BN + {type(after[1]).__name__}"] = (
                    f"features.{after[0]}", last_conv)
            else:
                found[f"conv {conv_count}"] = (last_conv, last_conv)
        elif isinstance(module, _POOLS):
            pool_count += 1
            found[f"pool {pool_count}"] = (f"features.{name}", last_conv)
    if not found:
        raise ValueError("model.features has no convolution or pooling layer to show")
    return found


def _filter_grid(weight: torch.Tensor) -> torch.Tensor:
    """``(C_out, C_in, k, k)`` → one image: column = output channel, row = input channel."""
    c_out, c_in = weight.shape[:2]
    tiles = weight.detach().to("cpu", torch.float32).transpose(0, 1)
    return montage(tiles.reshape(c_in * c_out, *weight.shape[2:]), ncols=c_out,
                   normalize=False)


def render_features(ax, maps: dict[str, torch.Tensor], filters: dict[str, torch.Tensor],
                    images: torch.Tensor, layer: str, digit: int, view: str) -> None:
    """Draw one state of the explorer into ``ax`` from precomputed ``maps``
    (``{label: (N, C, h, w)}``) and ``filters`` (``{label: conv weight}``): the montage on the
    right and, for the feature maps, the input digit small on the left (``digit`` is
    ignored in the ``"filters"`` view: the weights do not depend on the input)."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    if layer not in maps:
        raise ValueError(f"layer must be one of {list(maps)}, got {layer!r}")
    fig = ax.figure
    ax.axis("off")
    picture = ax.inset_axes([0.24, 0.0, 0.76, 0.86])
    if view == "feature maps":
        m = maps[layer][digit]
        picture.imshow(montage(m).numpy(), cmap="magma")
        title = f"input {digit}, {layer}:\n{m.shape[0]} maps {m.shape[1]}×{m.shape[2]}"
    else:
        w = filters[layer]
        vmax = float(w.abs().max()) or 1.0
        picture.imshow(_filter_grid(w).numpy(), cmap=SIGNED_CMAP, vmin=-vmax, vmax=vmax)
        shape = "×".join(map(str, w.shape))
        title = (f"{layer}:\nfilters {shape}" if layer.startswith("conv") else
                 f"{layer} has no weights:\nfilters of the conv before, {shape}")
    ax.set_title(title, fontsize=legible_fontsize(fig, 10))
    picture.axis("off")
    if view == "filters":
        return
    digit_ax = ax.inset_axes([0.0, 0.6, 0.2, 0.26])
    digit_ax.imshow(to_numpy_image(images[digit]), cmap="gray")
    digit_ax.set_xticks([])
    digit_ax.set_yticks([])
    digit_ax.set_xlabel(f"input {digit}", fontsize=legible_fontsize(fig, 8))


def _describe(sweep: str, values: list, start: dict, maps: dict) -> str:
    layer, digit, view = start["layer"], start["digit"], start["view"]
    if sweep == "digit":
        c, h, w = maps[layer].shape[1:]
        return (f"The {c} feature maps ({h}×{w}) of {layer} for inputs "
                f"{', '.join(map(str, values))} (the control digit picks one of the given "
                "images), one panel each with the input on its left, every map scaled to "
                "its own range (bright: strong response): compare which channels each digit "
                "lights up.")
    if sweep == "layer":
        what = ("feature maps of" if view == "feature maps" else "filters of")
        return (f"The {what} each layer ({', '.join(values)}) for input {digit}, one panel "
                "per layer, with the size and number of its maps in the title.")
    return (f"For {layer} and input {digit}: its feature maps (bright: strong response) "
            f"and its filters (one column per output channel, one row per input channel, red "
            "positive, blue negative).")


def feature_explorer(model: nn.Module, images: torch.Tensor, *, static: str = "grid",
                     sweep: str = "digit", defaults: dict | None = None,
                     force_static: bool | None = None):
    """An explorer over ``layer`` × ``digit`` × ``view`` for a trained ``model``.

    ``images: (n, C, H, W)`` — a few inputs, already as the model takes them (standardised);
    they are shown as they are, in gray. Activations of every listed layer are computed
    once, in eval mode, on the model's device. On the static site: small multiples along
    ``sweep`` — by default the first four digits side by side at the last convolution's
    feature maps (``sweep="layer"``: every layer for the first digit). Live, ``digit`` is
    disabled in the ``"filters"`` view (the weights do not depend on the input).
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[0] == 0:
        raise ValueError("images must be a 4-D tensor (n, C, H, W) with n ≥ 1")
    layers = feature_layers(model)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        recorded = activations(model, images.to(device), [name for name, _ in layers.values()])
    finally:
        model.train(was_training)
    modules = dict(model.named_modules())
    maps = {label: recorded[name].cpu() for label, (name, _) in layers.items()}
    filters = {label: modules[conv].weight.detach().cpu() for label, (_, conv)
               in layers.items()}
    shown = images.detach().cpu()

    def render(ax, layer, digit, view):
        render_features(ax, maps, filters, shown, layer, digit, view)

    controls = {"layer": list(layers), "digit": list(range(images.shape[0])),
                "view": list(VIEWS)}
    if sweep not in controls:
        raise ValueError(f"sweep must be one of {list(controls)}, got {sweep!r}")
    convs = [label for label in layers if label.startswith("conv")]
    start = {"layer": convs[-1] if sweep == "digit" and convs else controls["layer"][0],
             "digit": 0, "view": "feature maps", **(defaults or {})}
    values = controls[sweep][:4]
    return widgets.explorer(render, controls, defaults=start, sweep=sweep,
                            sweep_values=values, static=static, ncols=2,
                            panel_size=(3.9, 3.4), force_static=force_static,
                            describe=_describe(sweep, values, start, maps),
                            active={"digit": lambda p: p["view"] == "feature maps"},
                            note=lambda p: ("digit: the filters do not depend on the input"
                                            if p["view"] == "filters" else ""))
