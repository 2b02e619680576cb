"""Values on the grader's channel as JSON: tensors, arrays and plain Python values, never pickle.

The grader sends a question's inputs to the sandboxed process and reads the student's outputs
back as JSON lines. Unpickling would let a submission run code in the grader; JSON can only
ever produce data, and :func:`decode` rebuilds nothing but tensors, arrays, numbers, strings,
lists, tuples and dicts, checking every size and type on the way.

A tensor travels as ``{"$tensor": {"dtype": "float32", "shape": [2, 3], "data": [...]}}`` with
its values flattened in row-major order; ``numpy`` arrays and scalars likewise.

:func:`encode` runs inside the sandbox on values a student's function returned. It calls no
method of the value itself: the tensor methods it needs were looked up when this module was
imported, before any student code ran, so a submission that patches ``torch.Tensor.tolist``
cannot change what is sent, and a tensor subclass (which could run code through
``__torch_function__``) is refused rather than converted.
"""

from __future__ import annotations

import collections
import json
import math

import numpy as np
import torch

__all__ = ["MAX_ELEMENTS", "CodecError", "decode", "dumps", "encode", "loads"]

MAX_ELEMENTS = 1_000_000  # a tensor or array larger than this is reported, not sent
MAX_DEPTH = 16

# Looked up once, at import, before any student code runs in this process.
_TensorBase = torch._C.TensorBase
_PLAIN_TENSORS = (torch.Tensor, torch.nn.Parameter)
_T_DETACH = _TensorBase.detach
_T_CPU = _TensorBase.cpu
_T_RESHAPE = _TensorBase.reshape
_T_TOLIST = _TensorBase.tolist
_T_SIZE = _TensorBase.size
_T_NUMEL = _TensorBase.numel
_T_DTYPE = _TensorBase.__dict__["dtype"].__get__
_ND_TOLIST = np.ndarray.tolist
_ND_RESHAPE = np.ndarray.reshape
_NP_ITEM = np.generic.item
_json_dumps = json.dumps
_json_loads = json.loads

_TORCH_DTYPES = {
    name: getattr(torch, name)
    for name in ("float16", "bfloat16", "float32", "float64", "int8", "uint8", "int16",
                 "int32", "int64", "bool")
}
_NUMPY_DTYPES = {
    name: np.dtype(name)
    for name in ("float16", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32",
                 "uint32", "int64", "uint64", "bool")
}


class CodecError(ValueError):
    """A message on the channel is not a well-formed encoded value."""


def _unsupported(value, why: str = "") -> dict:
    cls = type(value)
    name = f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', '?')}"
    return {"$unsupported": {"type": str(name)[:200], "why": why}}


def encode(value, _depth: int = 0):
    """A JSON-able description of ``value`` (see the module docstring).

    Values of other types become ``{"$unsupported": {...}}`` naming the type, so the grader
    can tell the student "returned a <type>" instead of failing to read the message.
    """
    if _depth > MAX_DEPTH:
        return _unsupported(value, "nested too deeply")
    cls = type(value)
    if value is None or cls is bool or cls is str:
        return value if cls is not str else value[:10_000]
    if cls is int:
        return value if abs(value) < 2**63 else {"$bigint": str(value)[:4000]}
    if cls is float:
        return {"$float": repr(value)} if not math.isfinite(value) else value
    if cls in _PLAIN_TENSORS:
        return _encode_tensor(value)
    if cls is np.ndarray:
        return _encode_array(value)
    if isinstance(value, np.generic) and value.dtype.name in _NUMPY_DTYPES:
        item = _NP_ITEM(value)
        return {"$npscalar": {"dtype": value.dtype.name, "value": encode(item, _depth + 1)}}
    if cls is list or cls is tuple:
        if len(value) > MAX_ELEMENTS:
            return {"$too_big": {"kind": cls.__name__, "shape": [len(value)]}}
        items = [encode(v, _depth + 1) for v in list.__iter__(value)] if cls is list else \
            [encode(v, _depth + 1) for v in tuple.__iter__(value)]
        return items if cls is list else {"$tuple": items}
    if cls is dict or cls is collections.OrderedDict:  # a state_dict is an OrderedDict
        if len(value) > 10_000 or not all(type(k) is str for k in dict.keys(value)):
            return _unsupported(value, "a dict needs string keys")
        return {"$dict": {k: encode(v, _depth + 1) for k, v in dict.items(value)}}
    if isinstance(value, torch.Tensor):
        return _unsupported(value, "a subclass of torch.Tensor; return a plain tensor")
    return _unsupported(value)


def _floats(values: list) -> list:
    return [v if not isinstance(v, float) or math.isfinite(v) else {"$float": repr(v)}
            for v in values]


def _encode_tensor(t: torch.Tensor):
    dtype = str(_T_DTYPE(t)).removeprefix("torch.")
    shape = [int(s) for s in _T_SIZE(t)]
    if dtype not in _TORCH_DTYPES:
        return {"$unsupported": {"type": f"torch.Tensor of dtype {dtype}", "why": ""}}
    if _T_NUMEL(t) > MAX_ELEMENTS:
        return {"$too_big": {"kind": "tensor", "shape": shape}}
    flat = _T_TOLIST(_T_RESHAPE(_T_CPU(_T_DETACH(t)), (-1,)))
    return {"$tensor": {"dtype": dtype, "shape": shape, "data": _floats(flat)}}


def _encode_array(a: np.ndarray):
    dtype = a.dtype.name
    shape = [int(s) for s in a.shape]
    if dtype not in _NUMPY_DTYPES:
        return {"$unsupported": {"type": f"numpy.ndarray of dtype {dtype}", "why": ""}}
    if a.size > MAX_ELEMENTS:
        return {"$too_big": {"kind": "ndarray", "shape": shape}}
    return {"$ndarray": {"dtype": dtype, "shape": shape, "data": _floats(_ND_TOLIST(
        _ND_RESHAPE(a, -1)))}}


class Unsupported:
    """Stands for a value the sandbox could not send (shown to the student by its type)."""

    def __init__(self, type_name: str, why: str = "", shape=None):
        self.type_name, self.why, self.shape = type_name, why, shape

    def __repr__(self) -> str:
        if self.shape is not None:
            return f"<a {self.type_name} of shape {tuple(self.shape)}, too large to send>"
        return f"<a {self.type_name}{', ' + self.why if self.why else ''}>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Unsupported) and vars(self) == vars(other)

    __hash__ = None


def _shape(raw) -> tuple[int, ...]:
    if not isinstance(raw, list) or len(raw) > 32 or not all(
            type(s) is int and 0 <= s < 2**62 for s in raw):
        raise CodecError(f"bad shape {raw!r:.80}")
    return tuple(raw)


def _data(raw, shape) -> list:
    if not isinstance(raw, list) or len(raw) > MAX_ELEMENTS or len(raw) != math.prod(shape):
        raise CodecError("data does not match its shape")
    out = []
    for v in raw:
        if type(v) in (int, float, bool):
            out.append(v)
        elif isinstance(v, dict) and set(v) == {"$float"} and v["$float"] in ("nan", "inf",
                                                                               "-inf"):
            out.append(float(v["$float"]))
        else:
            raise CodecError(f"bad element {v!r:.80}")
    return out


def decode(obj, _depth: int = 0):
    """Rebuild a value from :func:`encode`'s description; raise :class:`CodecError` if malformed."""
    if _depth > MAX_DEPTH + 2:
        raise CodecError("nested too deeply")
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if isinstance(obj, list):
        return [decode(v, _depth + 1) for v in obj]
    if not isinstance(obj, dict) or len(obj) != 1:
        raise CodecError(f"not an encoded value: {obj!r:.80}")
    (tag, body), = obj.items()
    rebuild = _DECODERS.get(tag)
    if rebuild is None:
        raise CodecError(f"unknown tag {tag!r:.40}")
    return rebuild(tag, body, _depth)


def _decode_container(tag: str, body, depth: int):
    if tag == "$tuple" and isinstance(body, list):
        return tuple(decode(v, depth + 1) for v in body)
    if tag == "$dict" and isinstance(body, dict):
        return {str(k): decode(v, depth + 1) for k, v in body.items()}
    raise CodecError(f"bad {tag[1:]}")


def _decode_number(tag: str, body, depth: int):
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "$bigint" and isinstance(body, str):
        try:
            return int(body)
        except ValueError as err:
            raise CodecError("bad big int") from err
    if tag == "$npscalar" and isinstance(body, dict) and body.get("dtype") in _NUMPY_DTYPES:
        value = decode(body.get("value"), depth + 1)
        if type(value) not in (int, float, bool):
            raise CodecError("bad numpy scalar")
        return _NUMPY_DTYPES[body["dtype"]].type(value)
    raise CodecError(f"bad {tag[1:]}")


def _decode_array(tag: str, body, depth: int):
    if not isinstance(body, dict):
        raise CodecError(f"bad {tag[1:]}")
    table = _TORCH_DTYPES if tag == "$tensor" else _NUMPY_DTYPES
    dtype = body.get("dtype")
    if dtype not in table:
        raise CodecError(f"bad dtype {dtype!r:.40}")
    shape = _shape(body.get("shape"))
    data = _data(body.get("data"), shape)
    if tag == "$tensor":
        return torch.tensor(data, dtype=table[dtype]).reshape(shape)
    return np.array(data, dtype=table[dtype]).reshape(shape)


def _decode_unsupported(tag: str, body, depth: int):
    if not isinstance(body, dict):
        raise CodecError(f"bad {tag[1:]}")
    if tag == "$too_big":
        return Unsupported(str(body.get("kind"))[:40], shape=_shape(body.get("shape")))
    return Unsupported(str(body.get("type"))[:200], str(body.get("why", ""))[:200])


_DECODERS = {"$tuple": _decode_container, "$dict": _decode_container,
             "$float": _decode_number, "$bigint": _decode_number, "$npscalar": _decode_number,
             "$tensor": _decode_array, "$ndarray": _decode_array,
             "$too_big": _decode_unsupported, "$unsupported": _decode_unsupported}


def dumps(obj) -> str:
    """One JSON line (no newline inside)."""
    return _json_dumps(obj, separators=(",", ":"), allow_nan=False)


def loads(line: str | bytes):
    """Parse one JSON line; any error becomes :class:`CodecError`."""
    try:
        return _json_loads(line)
    except (ValueError, RecursionError) as err:
        raise CodecError(f"not JSON: {err}") from err
