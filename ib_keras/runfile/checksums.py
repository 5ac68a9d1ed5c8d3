"""The run file's bytes: activity chunks encoded as HDF5's filters would (shuffle, deflate,
Fletcher-32), the checksum itself, and the file size HDF5's superblock records (a truncation test).

Activity chunks go through HDF5's shuffle + gzip + fletcher32 filters, applied here: ISA-L's
deflate (isal) writes standard zlib streams 8x faster than zlib at the same ratio, and the chunks
are handed to HDF5 as they are. The datasets declare the same filters, so any HDF5 reader decodes
them and verifies their checksums.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from isal import isal_zlib

_DEFLATE_LEVEL = 3  # isal's highest
ACTIVITY_FILTERS = {"compression": "gzip", "compression_opts": 4, "shuffle": True, "fletcher32": True}
CHECKSUM = {"fletcher32": True}  # every other dataset: chunked, each chunk with its checksum
_CHECKSUM_BLOCK = 1 << 22  # words: sum of j w_j over a block stays below 2^63


def encode_chunk(values: np.ndarray, dtype=np.float32) -> bytes:
    """One (N, units) chunk of ``dtype`` through HDF5's filters in their order: shuffle (byte
    planes), deflate, then Fletcher-32 (the checksum of the compressed bytes appended, little-endian)."""
    raw = np.ascontiguousarray(values, dtype=dtype)
    compressed = isal_zlib.compress(raw.view(np.uint8).reshape(-1, raw.itemsize).T.tobytes(), _DEFLATE_LEVEL)
    return compressed + fletcher32(compressed).to_bytes(4, "little")


def fletcher32(data: bytes) -> int:
    """HDF5's Fletcher-32 checksum of ``data``, as its fletcher32 filter stores and verifies it
    (``H5_checksum_fletcher32``: sums of big-endian 16-bit words, an odd last byte as the high byte
    of a word, kept below 2^16 by end-around folding). Folding keeps each sum's value modulo 65535,
    and a sum once positive stays in 1..65535, so the folded sums are those residues, with 65535
    for 0 unless every word is 0; here computed in closed form: sum1 = sum of the words w_j, sum2 =
    sum of the prefix sums = n sum1 - sum of j w_j over the n words (in int64 blocks that cannot
    overflow)."""
    raw = np.frombuffer(data, np.uint8)
    if len(raw) % 2:
        raw = np.append(raw, np.uint8(0))
    words = raw.view(">u2")
    n, sum1 = len(words), int(words.sum(dtype=np.int64))
    if sum1 == 0:
        return 0
    weighted = 0
    for start in range(0, n, _CHECKSUM_BLOCK):
        block = words[start : start + _CHECKSUM_BLOCK].astype(np.int64)
        weighted += start * int(block.sum()) + int(np.dot(np.arange(len(block), dtype=np.int64), block))
    fold = lambda total: (total - 1) % 65535 + 1  # noqa: E731
    return fold(n * sum1 - weighted) << 16 | fold(sum1)


# HDF5's superblock of versions 2 and 3 (what libver="latest" writes): the signature, then
# version, offset size and length size at bytes 8-10, then the base and end-of-file addresses.
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def stored_eof(path: Path) -> int | None:
    """The file size HDF5's superblock records (bytes), or None for a superblock before version 2."""
    with open(path, "rb") as f:
        head = f.read(48)
    if len(head) < 12 or head[:8] != _HDF5_SIGNATURE or head[8] not in (2, 3):
        return None
    size = head[9]
    if size not in (4, 8) or len(head) < 12 + 4 * size:
        return None
    base, _, eof = (int.from_bytes(head[12 + i * size : 12 + (i + 1) * size], "little") for i in range(3))
    return base + eof
