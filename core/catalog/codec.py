"""Numpy arrays as BLOBs: the ``.npy`` format (dtype, shape and order in a header of about 128
bytes, then the raw data), never pickled.  numpy is imported on first use, so opening the
catalog does not load it."""
from __future__ import annotations


def pack_array(a) -> bytes:
    """A numpy array as BLOB bytes: the ``.npy`` format (dtype, shape and order in its header,
    about 128 bytes, then the raw data).  Read back with :func:`unpack_array`."""
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.asarray(a), allow_pickle=False)
    return buf.getvalue()


_NPY_HEADERS: dict[bytes, tuple] = {}  # header bytes -> (dtype, shape, fortran_order)


def unpack_array(blob: bytes | bytearray | memoryview, *, copy: bool = True):
    """The array :func:`pack_array` stored (never unpickles anything).

    Each distinct ``.npy`` header is parsed once (numpy's own reader parses every header with
    ``ast``: seconds for 10,000 tracks).  With ``copy=False`` the array is a read-only view of
    ``blob`` (for readers that convert or subsample it anyway)."""
    import io

    import numpy as np

    b = memoryview(blob)
    try:
        if bytes(b[:6]) == b"\x93NUMPY":
            hlen, start = (int.from_bytes(b[8:10], "little"), 10) if b[6] == 1 else (int.from_bytes(b[8:12], "little"), 12)
            header = bytes(b[start : start + hlen])
            info = _NPY_HEADERS.get(header)
            if info is None:
                import ast

                d = ast.literal_eval(header.decode("latin1"))
                info = (np.dtype(d["descr"]), tuple(d["shape"]), bool(d["fortran_order"]))
                if len(_NPY_HEADERS) < 4096 and not info[0].hasobject:
                    _NPY_HEADERS[header] = info
            dtype, shape, fortran = info
            if not dtype.hasobject:
                count = int(np.prod(shape)) if shape else 1
                a = np.frombuffer(b, dtype=dtype, count=count, offset=start + hlen)
                a = a.reshape(shape, order="F" if fortran else "C")
                return a.copy() if copy else a
    except (ValueError, SyntaxError, KeyError, TypeError, IndexError):
        pass
    return np.load(io.BytesIO(bytes(blob)), allow_pickle=False)  # anything unusual: numpy decides
