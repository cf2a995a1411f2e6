"""Read an ONNX file without its weights' values: the front-end needs their shapes only.

`read_without_weights` walks the protobuf wire format of the memory-mapped file and copies every field except the
data of the graph's large initializers, which it steps over: those pages are never read, so a 330 MB ViT-B/16
costs memory for its graph, not for its weights. The result parses as an ordinary ModelProto whose large
initializers have their name, type and dims but no data (onnx_tvm then makes them graph inputs).
"""

from __future__ import annotations

import contextlib
import math
import mmap
from pathlib import Path

import onnx

WEIGHT_ELEMENTS = 4096
"""Initializers above this many elements are weights (shapes of reshapes and the like are smaller)."""
_MODEL_GRAPH = 7  # ModelProto.graph
_GRAPH_INITIALIZER = 5  # GraphProto.initializer
_TENSOR_DIMS = 1  # TensorProto.dims
_TENSOR_DATA = {4, 5, 6, 7, 9, 10, 11, 13, 14}
"""TensorProto's value fields: float, int32, string, int64, raw, double and uint64 data, external data and its
location; a skimmed weight keeps none of them (its dims, type and name stay)."""
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


class SkimError(ValueError):
    """The file is not a well-formed protobuf."""


def read_without_weights(path: str | Path) -> onnx.ModelProto:
    """The model in `path` with the data of every initializer above WEIGHT_ELEMENTS elements left out."""
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        skimmed = _message(memoryview(mapped), _MODEL_GRAPH, _graph)
    finally:
        with contextlib.suppress(BufferError):  # views live on in a SkimError's traceback: it closes when freed
            mapped.close()
    model = onnx.ModelProto()
    model.ParseFromString(skimmed)
    return model


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise SkimError("truncated or overlong varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _encode(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _fields(data: memoryview):
    """(field number, wire type, start of the field, start of its payload, end) of each field of a message."""
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            _, end = _varint(data, pos)
        elif wire == _FIXED64:
            end = pos + 8
        elif wire == _FIXED32:
            end = pos + 4
        elif wire == _BYTES:
            length, pos = _varint(data, pos)
            end = pos + length
        else:
            raise SkimError(f"wire type {wire}")
        if end > len(data) or number == 0:
            raise SkimError("field beyond the end of its message")
        yield number, wire, start, pos, end
        pos = end


def _message(data: memoryview, field: int, transform) -> bytes:
    """The message with the payload of each occurrence of (length-delimited) `field` rewritten by transform."""
    out = bytearray()
    for number, wire, start, payload, end in _fields(data):
        if number == field and wire == _BYTES:
            inner = transform(data[payload:end])
            out += _encode(number << 3 | _BYTES) + _encode(len(inner)) + inner
        else:
            out += data[start:end]
    return bytes(out)


def _graph(data: memoryview) -> bytes:
    return _message(data, _GRAPH_INITIALIZER, _tensor)


def _tensor(data: memoryview) -> bytes:
    """An initializer as is, or without its value fields when it holds more than WEIGHT_ELEMENTS elements."""
    fields = list(_fields(data))
    dims = []
    for number, wire, _, payload, end in fields:
        if number == _TENSOR_DIMS and wire == _VARINT:
            dims.append(_varint(data, payload)[0])
        elif number == _TENSOR_DIMS and wire == _BYTES:  # packed
            pos = payload
            while pos < end:
                dim, pos = _varint(data, pos)
                dims.append(dim)
    if math.prod(dims) <= WEIGHT_ELEMENTS:
        return bytes(data)
    return b"".join(bytes(data[start:end]) for number, _, start, _, end in fields if number not in _TENSOR_DATA)
