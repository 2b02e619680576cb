"""Interactive explorers that still say something on the static website.

Every chapter's explorer is one call::

    cnnlib.viz.explorer(render, controls, sweep="stride")

``render(ax, **params)`` draws one state into a matplotlib ``Axes``. In a live Jupyter kernel
the call shows ipywidgets controls that redraw on every change. When the book is built
(``CNNLIB_STATIC=1``, set by ``make book``) it shows instead what a page without a kernel
can show — small multiples of ``render`` along the ``sweep`` control, or an animation
(``static="animation"``, a self-contained HTML player, no CDN) — and no dead sliders.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt

from ..env import is_static

__all__ = ["StaticExplorer", "explorer"]


def _options(name: str, spec) -> list:
    if isinstance(spec, range):
        return list(spec)
    if isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) > 0:
        return list(spec)
    raise ValueError(f"control {name!r} must be a non-empty list or range of values, got {spec!r}")


def _widget(name: str, values: list, value):
    import ipywidgets as w

    style = {"description_width": "initial"}
    if all(isinstance(v, bool) for v in values):
        return w.Checkbox(value=bool(value), description=name, style=style)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return w.SelectionSlider(options=values, value=value, description=name,
                                 continuous_update=False, style=style)
    labels = [(str(v), v) for v in values]
    return w.Dropdown(options=labels, value=value, description=name, style=style)


def _static_values(values: list, n: int) -> list:
    if len(values) <= n:
        return values
    step = (len(values) - 1) / (n - 1)
    return [values[round(i * step)] for i in range(n)]


def explorer(render: Callable, controls: dict, *, defaults: dict | None = None,
             sweep: str | None = None, sweep_values: Sequence | None = None,
             static: str = "grid", ncols: int = 4, panel_size: tuple[float, float] = (3.2, 3.0),
             force_static: bool | None = None):
    """Show an explorer of ``render(ax, **params)`` over the ``controls``.

    controls: ``{name: list or range of values}``; numbers give a slider, booleans a
      checkbox, anything else a drop-down. ``defaults`` picks the start values (else the
      first value of each control).
    sweep: the control the static rendering varies (default: the first control), over
      ``sweep_values`` (default: up to ``ncols`` values spread over its range) with the other
      controls at their defaults.
    static: ``"grid"`` (small multiples) or ``"animation"`` (one frame per sweep value).

    Returns what the notebook shows as the cell's value: the ipywidgets box when live, else a
    :class:`StaticExplorer` (HTML: the small multiples as an image, or the animation).
    """
    if not callable(render):
        raise TypeError(f"render must be a callable render(ax, **params), got {render!r}")
    if not isinstance(controls, dict) or not controls:
        raise ValueError("controls must be a non-empty dict {name: list of values}")
    options = {name: _options(name, spec) for name, spec in controls.items()}
    start = {name: vals[0] for name, vals in options.items()}
    for name, value in (defaults or {}).items():
        if name not in options:
            raise ValueError(f"defaults names {name!r}, which is not a control: {list(options)}")
        start[name] = value
    sweep = sweep or next(iter(options))
    if sweep not in options:
        raise ValueError(f"sweep must name a control, got {sweep!r}; controls: {list(options)}")
    if static not in ("grid", "animation"):
        raise ValueError(f"static must be 'grid' or 'animation', got {static!r}")
    use_static = is_static() if force_static is None else force_static
    if use_static:
        values = list(sweep_values) if sweep_values is not None else _static_values(
            options[sweep], ncols)
        if static == "grid":
            return _grid(render, start, sweep, values, ncols, panel_size)
        return _animation(render, start, sweep, values, panel_size)
    return _live(render, options, start)


def _title(ax, sweep, value):
    if not ax.get_title():
        ax.set_title(f"{sweep} = {value}", fontsize=10)


def _grid(render, start, sweep, values, ncols, panel_size):
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
    return StaticExplorer(_png_img(fig), sweep, values)


def _animation(render, start, sweep, values, panel_size):
    from matplotlib import animation

    fig, ax = plt.subplots(figsize=panel_size)

    def frame(i):
        ax.clear()
        render(ax, **{**start, sweep: values[i]})
        _title(ax, sweep, values[i])
        return []

    anim = animation.FuncAnimation(fig, frame, frames=len(values), interval=700, blit=False)
    player = _offline_player(anim.to_jshtml(default_mode="loop"))
    plt.close(fig)
    return StaticExplorer(player, sweep, values)


def _png_img(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="explorer preview" style="max-width:100%">'


class StaticExplorer:
    """What an explorer shows without a kernel: a figure or animation, marked as a preview.

    Rendered as HTML inside ``<div class="cnnlib-explorer">`` with a caption that tells the
    reader the live version is one click away (the launch button or a local Jupyter).
    """

    def __init__(self, body: str, sweep: str, values: Sequence):
        self.body, self.sweep, self.values = body, sweep, list(values)

    def _repr_html_(self) -> str:
        shown = ", ".join(str(v) for v in self.values)
        if len(self.values) > 8:
            shown = f"{self.values[0]}, {self.values[1]}, …, {self.values[-1]}"
        caption = (f"Static preview along <code>{html.escape(self.sweep)}</code> = "
                   f"{html.escape(shown)}. Run this notebook (launch button above, or Jupyter) "
                   "to use the live explorer.")
        return (f'<div class="cnnlib-explorer">{self.body}'
                f'<p class="cnnlib-explorer-caption"><em>{caption}</em></p></div>')

    def __repr__(self) -> str:
        return f"<static explorer preview: {self.sweep} = {self.values}>"


# matplotlib's HTML player draws its buttons with Font Awesome from a CDN; the course's pages
# must work offline, so the icons become plain Unicode symbols and the CDN link goes.
_ICONS = {
    "fa fa-minus": "−", "fa fa-fast-backward": "⏮", "fa fa-step-backward": "⏴",
    "fa fa-play fa-flip-horizontal": "◀", "fa fa-pause": "⏸", "fa fa-play": "▶",
    "fa fa-step-forward": "⏵", "fa fa-fast-forward": "⏭", "fa fa-plus": "+",
}


def _offline_player(html: str) -> str:
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html, flags=re.S)
    for css_class, symbol in _ICONS.items():
        html = html.replace(f'<i class="{css_class}"></i>', symbol)
    return html


def _live(render, options, start):
    import ipywidgets as w

    out = w.Output()
    ws = {name: _widget(name, vals, start[name]) for name, vals in options.items()}

    def redraw(**params):
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(5, 4))
            render(ax, **params)
            plt.show()
            plt.close(fig)  # inline backends close on show; others would keep every redraw

    w.interactive_output(redraw, ws)
    return w.VBox([w.HBox(list(ws.values()), layout=w.Layout(flex_flow="row wrap")), out])
