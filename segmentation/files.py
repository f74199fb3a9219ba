"""Files written whole or not at all: a temporary name in the same folder, then a rename.

    with atomic_path("out/model.keras") as temporary:   # any writer that takes a path
        model.save(temporary)
    write_bytes("out/mask.png", encoded)                # bytes, e.g. from cv2.imencode
    write_text("out/card.json", text)
    sha256_of_file("assets/fashion_cnn.tflite")       # the hex SHA-256 of a file's bytes

A reader never sees half a file: an interrupted or failed write (Ctrl-C, a full disk) leaves the
old file, or none, and no temporary file. Every file the app and the commands write goes
through here. The temporary name keeps the suffix (Keras and numpy choose the format by it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


def temporary_name(path: Path) -> Path:
    """A fresh hidden name beside path with the same suffix, e.g. .mask.png.1a2b3c4d.tmp.png;
    at most 200 bytes of path's name go into it, so that it fits where path's name fits."""
    return path.with_name(f".{clipped(path.name, 200)}.{secrets.token_hex(4)}.tmp{path.suffix}")


def clipped(text: str, max_bytes: int) -> str:
    """The longest start of text whose UTF-8 form has at most max_bytes (a file name part)."""
    return text.encode("utf-8", "surrogateescape")[:max_bytes].decode("utf-8", "ignore")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path to write; when the block ends without error, the file there is
    flushed to disk and renamed to path (os.replace), else removed. Raises what the block
    raised, or OSError when the rename fails."""
    path = Path(path)
    temporary = temporary_name(path)
    try:
        yield temporary
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def write_bytes(path: str | os.PathLike, data) -> None:
    """Writes bytes (or a buffer such as a uint8 numpy array) to path whole or not at all."""
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        file.write(memoryview(data))


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Writes text to path whole or not at all."""
    write_bytes(path, text.encode(encoding))


def sha256_of_file(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, as 64 hex digits (what model cards, photo caches and
    saved embeddings record of the files they depend on)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
