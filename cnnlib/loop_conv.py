"""Convolution by its definition: shift the filter, multiply, sum.

For every output pixel ``(a, b)`` and every filter ``o``,

    y[n, o, a, b] = bias[o] + Σ_c Σ_i Σ_j  w[o, c, i, j] · x_pad[n, c, a·s_h + i·d_h, b·s_w + j·d_w]

(cross-correlation: the filter is *not* flipped, as in every deep-learning library). The loops
below run over output positions and kernel taps exactly as the formula reads; only the batch
and channel sums are done by tensor operations, which keeps a LeNet-sized layer (28×28 input,
20 filters of 5×5) well under a second while every step stays visible.
"""

from __future__ import annotations

import torch

from .arithmetic import conv_output_size
from .padding import pad

__all__: list[str] = []


def _conv2d_loop(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                 stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1),
                 groups: int = 1) -> torch.Tensor:
    """The definition, loop by loop (arguments already checked by conv2d).

    ``x: (N, C_in, H, W)``, ``weight: (C_out, C_in/groups, kh, kw)``, ``bias: (C_out,)`` →
    ``(N, C_out, H_out, W_out)``, ``H_out = ⌊(H + p_top + p_bottom − d_h(kh − 1) − 1)/s_h⌋ + 1``.
    Filters of group ``g`` see only the input channels of group ``g``.
    """
    (sh, sw), (dh, dw) = stride, dilation
    xp = pad(x, padding)
    n, _, hp, wp = xp.shape
    c_out, c_group, kh, kw = weight.shape
    ho = conv_output_size(hp, kh, stride=sh, dilation=dh)
    wo = conv_output_size(wp, kw, stride=sw, dilation=dw)
    xg = xp.reshape(n, groups, c_group, hp, wp)  # input channels split by group
    # taps[i][j]: (G, C_out/G, C_in/G), the weights of kernel tap (i, j) of every filter
    wg = weight.reshape(groups, c_out // groups, c_group, kh, kw)
    taps = [[wg[:, :, :, i, j] for j in range(kw)] for i in range(kh)]
    start = 0 if bias is None else bias.reshape(groups, c_out // groups)
    out = xp.new_zeros(n, groups, c_out // groups, ho, wo)
    for a in range(ho):  # every output position ...
        for b in range(wo):
            total = start
            for i in range(kh):  # ... every kernel tap ...
                for j in range(kw):
                    pixel = xg[:, :, None, :, a * sh + i * dh, b * sw + j * dw]  # (N, G, 1, C_in/G)
                    # ... multiply, and sum over the input channels of the group
                    total = total + (pixel * taps[i][j]).sum(dim=-1)  # (N, G, C_out/G)
            out[:, :, :, a, b] = total
    return out.reshape(n, c_out, ho, wo)
