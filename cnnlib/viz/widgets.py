"""Interactive explorers that still say something on the static website.

Every chapter's explorer is one call::

    cnnlib.viz.explorer(render, controls, sweep="stride")

``render(ax, **params)`` draws one state into a matplotlib ``Axes``. In a live Jupyter kernel
the call shows ipywidgets controls that redraw on every change: they live in
:mod:`cnnlib.viz.live` (number boxes, controls that depend on each other through ``active``,
``choices``, ``link``, ``note`` and ``rows``, one redraw per change, the ``box.explorer``
handle for tests). This module holds the entry point, :func:`explorer`, and what it shows
without a kernel.

When the book is built (``CNNLIB_STATIC=1``, set by ``make book``) the call shows what a page
without a kernel can show — small multiples of ``render`` along the ``sweep`` control, or an
animation (``static="animation"``, :func:`cnnlib.viz.player.player_html`: one image, drawn
buttons, no CDN) — and no dead sliders. Every picture goes through
:func:`cnnlib.viz.figure_output.figure_image` (SVG or 2× PNG) and carries ``describe``, a
sentence saying what the sweep changes, as its alt text and in its caption
(:class:`StaticExplorer`; :func:`default_description` when the explorer gives none).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
from matplotlib.transforms import Bbox

from ..env import is_static
from .figure_output import SVG_DPI, data_uri, figure_image, img_html, legible_fontsize
from .live import ControlRules, LiveExplorer, NumberBox
from .player import player_html

__all__ = ["StaticExplorer", "default_description", "explorer"]


def _options(name: str, spec) -> list | NumberBox:
    if isinstance(spec, NumberBox):
        return spec
    if isinstance(spec, range):
        return list(spec)
    if isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) > 0:
        return list(spec)
    raise ValueError(f"control {name!r} must be a non-empty list or range of values or a "
                     f"NumberBox, got {spec!r}")


def _static_values(values: list, n: int) -> list:
    if len(values) <= n:
        return values
    step = (len(values) - 1) / (n - 1)
    return [values[round(i * step)] for i in range(n)]


def explorer(render: Callable, controls: dict, *, defaults: dict | None = None,
             sweep: str | None = None, sweep_values: Sequence | None = None,
             static: str = "grid", ncols: int = 4, panel_size: tuple[float, float] = (3.2, 3.0),
             force_static: bool | None = None, describe: str | None = None,
             active: dict | None = None, choices: dict | None = None,
             link: Callable | None = None, note: Callable | None = None,
             rows: Sequence[Sequence[str]] | None = None):
    """Show an explorer of ``render(ax, **params)`` over the ``controls``.

    controls: ``{name: list or range of values, or a NumberBox}``; numbers give a slider,
      booleans a checkbox, anything else a drop-down, a :class:`cnnlib.viz.live.NumberBox` a
      number box.
      ``defaults`` picks the start values (else the first value of each control, or the
      number box's ``value``).
    sweep: the control the static rendering varies (default: the first control), over
      ``sweep_values`` (default: up to ``ncols`` values spread over its range; required for a
      number box) with the other controls at their defaults.
    static: ``"grid"`` (small multiples, ``ncols`` per row, each ``panel_size`` inches) or
      ``"animation"`` (one frame per sweep value, in a small offline player).
    describe: one or two sentences saying in words what the sweep changes and what the
      panels show; the static preview's alt text and caption. Default: a sentence naming the
      sweep, its values and the other controls' values.
    active, choices, link, note, rows: how the live controls depend on each other (see
      :mod:`cnnlib.viz.live`); ``params`` is always a fresh dict of every control's current
      value. After each change: ``params`` takes the new value; ``link(changed, params)``
      sets the controls it returns; each ``choices`` list is applied (a value no longer
      offered moves to the nearest number offered, or to the first option); ``active`` and
      ``note`` are evaluated; the picture is drawn once. The same steps run once at the start
      with ``changed=None``, so the start values are consistent too. ``rows``: lists of
      control names, one row of controls each, under a first row holding the controls not
      named.

    Returns what the notebook shows as the cell's value: the ipywidgets box when live (its
    attribute ``explorer`` is the :class:`cnnlib.viz.live.LiveExplorer`), else a
    :class:`StaticExplorer` (HTML: the small multiples as an image, or the animation).
    """
    if not callable(render):
        raise TypeError(f"render must be a callable render(ax, **params), got {render!r}")
    if not isinstance(controls, dict) or not controls:
        raise ValueError("controls must be a non-empty dict {name: list of values}")
    options = {name: _options(name, spec) for name, spec in controls.items()}
    start = {name: vals.value if isinstance(vals, NumberBox) else vals[0]
             for name, vals in options.items()}
    for name, value in (defaults or {}).items():
        if name not in options:
            raise ValueError(f"defaults names {name!r}, which is not a control: {list(options)}")
        start[name] = value
    sweep = sweep or next(iter(options))
    if sweep not in options:
        raise ValueError(f"sweep must name a control, got {sweep!r}; controls: {list(options)}")
    if static not in ("grid", "animation"):
        raise ValueError(f"static must be 'grid' or 'animation', got {static!r}")
    if describe is not None and (not isinstance(describe, str) or not describe.strip()):
        raise ValueError(f"describe must be a non-empty string, got {describe!r}")
    rules = ControlRules.checked(options, active, choices, link, note, rows)
    use_static = is_static() if force_static is None else force_static
    if use_static:
        if sweep_values is None and isinstance(options[sweep], NumberBox):
            raise ValueError(f"sweep_values must be given to sweep the number box {sweep!r}")
        values = list(sweep_values) if sweep_values is not None else _static_values(
            options[sweep], ncols)
        text = describe or default_description(sweep, values, start, static)
        if static == "grid":
            return _grid(render, start, sweep, values, ncols, panel_size, text)
        return _animation(render, start, sweep, values, panel_size, text)
    return LiveExplorer(render, options, start, rules).box


def _shown_values(values: Sequence) -> str:
    shown = ", ".join(str(v) for v in values)
    if len(values) > 8:
        shown = f"{values[0]}, {values[1]}, …, {values[-1]}"
    return shown


def default_description(sweep: str, values: Sequence, start: dict,
                        static: str = "grid") -> str:
    """The generic ``describe`` of an explorer: what varies, over which values, and the
    other controls' values; each explorer of :mod:`cnnlib.viz.explorers` gives a better one."""
    others = ", ".join(f"{k} = {v}" for k, v in start.items() if k != sweep)
    form = "frames of an animation" if static == "animation" else "panels side by side"
    text = f"{len(values)} {form}, one for each {sweep} in {_shown_values(values)}"
    return text + (f"; the other controls stay at {others}." if others else ".")


def _title(ax, sweep, value):
    if not ax.get_title():
        ax.set_title(f"{sweep} = {value}", fontsize=legible_fontsize(ax.figure, 10))


def _grid(render, start, sweep, values, ncols, panel_size, describe):
    ncols = min(ncols, len(values))
    nrows = -(-len(values) // ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(panel_size[0] * ncols, panel_size[1] * nrows))
    for ax in axes.flat[len(values):]:
        ax.axis("off")
    for ax, value in zip(axes.flat, values, strict=False):
        render(ax, **{**start, sweep: value})
        _title(ax, sweep, value)
    fig.tight_layout()
    plt.close(fig)
    return StaticExplorer(img_html(fig, describe, css_class="cnnlib-explorer-image"), sweep,
                          values, describe)


def _frames(render, start, sweep, values, panel_size) -> tuple[list, list]:
    """One closed figure per sweep value, and the union of their tight boxes (inches), so
    that every frame of the animation has the same size."""
    figures, boxes = [], []
    for value in values:
        fig, ax = plt.subplots(figsize=panel_size)
        render(ax, **{**start, sweep: value})
        _title(ax, sweep, value)
        plt.close(fig)
        figures.append(fig)
        boxes.append(fig.get_tightbbox())
    box = Bbox.union(boxes).padded(0.1)
    return figures, box


def _animation(render, start, sweep, values, panel_size, describe):
    figures, box = _frames(render, start, sweep, values, panel_size)
    mime, first, metadata = figure_image(figures[0], bbox_inches=box)
    fmt = "svg" if mime == "image/svg+xml" else "png"
    frames = [data_uri(mime, first)]
    frames += [data_uri(*figure_image(fig, fmt, bbox_inches=box)[:2]) for fig in figures[1:]]
    width = (metadata["image/png"]["width"] if fmt == "png" else
             round(box.width * SVG_DPI))
    labels = [f"{sweep} = {v}" for v in values]
    return StaticExplorer(player_html(frames, labels, describe, width), sweep, values,
                          describe)


class StaticExplorer:
    """What an explorer shows without a kernel: a figure or animation, marked as a preview.

    Rendered as HTML inside ``<div class="cnnlib-explorer">``: the picture (its alt text is
    ``describe``), then a caption that says in words what the picture shows and that the
    live controls are in Jupyter or Colab. The control's name is
    ``<code class="cnnlib-explorer-control">`` (the site styles it for light and dark mode).
    """

    def __init__(self, body: str, sweep: str, values: Sequence, describe: str | None = None):
        self.body, self.sweep, self.values = body, sweep, list(values)
        self.describe = describe or default_description(sweep, self.values, {})

    def caption(self) -> str:
        """The caption's HTML."""
        control = (f'<code class="cnnlib-explorer-control">{html.escape(self.sweep)}</code>')
        return (f"{html.escape(self.describe)} <em>Static preview: {control} = "
                f"{html.escape(_shown_values(self.values))}. In Jupyter or Colab the same "
                "explorer has live controls.</em>")

    def _repr_html_(self) -> str:
        return (f'<div class="cnnlib-explorer">{self.body}'
                f'<p class="cnnlib-explorer-caption">{self.caption()}</p></div>')

    def __repr__(self) -> str:
        return f"<static explorer preview: {self.sweep} = {self.values}>"
