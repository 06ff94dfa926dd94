"""The ``.npz`` files of :mod:`tensorgraph.serialization`: an atomic writer and a reader that
trusts nothing in the file.

Writing: the archive goes to a temporary file beside its destination, created as ``open()``
creates files (mode ``0o666`` less the umask, or the mode of the file it replaces), then is
renamed over the destination, so a reader sees the old file or the new one, never half of
one. A symlink is written through: the temporary file goes beside the symlink's target and
replaces the target, and the link stays.

Reading: every size in the file is checked against the file's own length *before* anything
is allocated (a 100-byte file claiming a 10**12-element array is refused, not attempted), the
CRC of every entry is verified, object (pickled) arrays are refused, and any flaw becomes a
:class:`ArchiveError` naming the file and what is wrong with it.
"""

from __future__ import annotations

import errno
import math
import os
import secrets
import stat
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["ArchiveError", "read_npz", "write_atomic", "write_npz"]

#: deflate cannot expand data more than about 1032 times; a larger claim is a lie
_DEFLATE_RATIO = 1100
_MAX_HEADER = 10_000  # numpy's own limit on an .npy header


class ArchiveError(ValueError):
    """What is wrong with a file (the caller adds the file's name and its error type)."""


# --------------------------------------------------------------------------- writing
def _new_file_in(directory: Path, name: str) -> tuple[int, Path]:
    """A new, empty file beside ``name``, created with mode 0o666 so the umask applies."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = directory / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"save: could not create a temporary file in {directory}")


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; not every platform can open a directory (then skip)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(stream)`` on a temporary file beside ``path``, then rename it over
    ``path`` (see above): a reader sees the old file or the new one, never half of one."""
    target = Path(os.path.realpath(path))  # a symlink (chain) is followed to its target
    # Said here, naming what the caller gave: else the error would name the hidden
    # temporary file (or come from the rename, after the whole file was written).
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"save: {path} is a directory, not a file")
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"save: no such directory: {target.parent}")
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    handle, temporary = _new_file_in(target.parent, target.name)
    try:
        if mode is not None:  # replacing a file: keep its permissions
            os.chmod(temporary, mode)
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def write_npz(path: str | os.PathLike[str], arrays: Mapping[str, Any]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` to ``path``, atomically (see above)."""
    write_atomic(path, lambda stream: np.savez(stream, **arrays))


# --------------------------------------------------------------------------- reading
def _header(stream: IO[bytes], entry: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(
            stream, max_header_size=_MAX_HEADER
        )
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(
            stream, max_header_size=_MAX_HEADER
        )
    else:
        raise ArchiveError(f"entry {entry!r} is an .npy of format {version}, not 1.0 or 2.0")
    if dtype.hasobject:
        raise ArchiveError(
            f"entry {entry!r} holds Python objects (dtype {dtype}), which could only be "
            "unpickled; tensorgraph never unpickles"
        )
    return shape, fortran, dtype


def _entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, length: int) -> np.ndarray:
    name = info.filename
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ArchiveError(f"entry {name!r} uses an unsupported compression")
    if info.compress_size > length or (
        info.file_size > info.compress_size * _DEFLATE_RATIO + 1024
        if info.compress_type == zipfile.ZIP_DEFLATED
        else info.file_size != info.compress_size
    ):
        raise ArchiveError(
            f"entry {name!r} claims {info.file_size} bytes ({info.compress_size} stored), "
            f"more than the {length}-byte file can hold"
        )
    with archive.open(info) as stream:
        shape, fortran, dtype = _header(stream, name)
        if any(n < 0 for n in shape):
            raise ArchiveError(f"entry {name!r} claims a negative size: shape {shape}")
        count = math.prod(shape)
        if dtype.itemsize == 0 and count:
            raise ArchiveError(f"entry {name!r} claims {count} elements of zero bytes")
        needed = count * dtype.itemsize
        available = info.file_size - stream.tell()
        if needed != available:  # checked before anything is allocated
            raise ArchiveError(
                f"entry {name!r} claims shape {shape} of {dtype} ({needed} bytes) but holds "
                f"{available} bytes"
            )
        array = np.empty(count, dtype=dtype)
        if needed:
            view = array.view(np.uint8).reshape(-1).data
            reader: Any = stream  # a ZipExtFile: it has readinto
            got = 0
            while got < needed:
                n = reader.readinto(view[got:])
                if not n:
                    raise ArchiveError(f"entry {name!r} ends early")
                got += n
        if stream.read(1):  # and reading to the end checks the CRC
            raise ArchiveError(f"entry {name!r} is longer than its header says")
    if fortran:
        return array.reshape(shape[::-1]).transpose()
    return array.reshape(shape)


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` at ``path`` by name (without ``.npy``).

    Raises
    ------
    ArchiveError
        For anything wrong with the file, with what it is.
    OSError
        For a file that cannot be opened (missing, a directory, no permission), unchanged.
        Once open, every failure is an :class:`ArchiveError`.
    """
    length = path.stat().st_size
    with open(path, "rb") as handle:
        try:
            return _read_archive(handle, length)
        except ArchiveError:
            raise
        except Exception as exc:
            # A damaged byte can surface from any layer numpy and zipfile use (a tokenizer
            # error in an .npy header, "zip file version 10.9", "encrypted"): all of them say
            # the same thing, that the file is damaged.
            raise ArchiveError(f"is damaged ({type(exc).__name__}: {exc})") from None


def _read_archive(handle: IO[bytes], length: int) -> dict[str, np.ndarray]:
    if handle.read(6) == b"\x93NUMPY":
        raise ArchiveError("is a single .npy array, not a tensorgraph .npz file")
    handle.seek(0)
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
        raise ArchiveError(f"is not a zip archive: {exc}") from None
    with archive:
        arrays: dict[str, np.ndarray] = {}
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise ArchiveError(f"has an entry {info.filename!r} that is not an array")
            key = info.filename[: -len(".npy")]
            if key in arrays:
                raise ArchiveError(f"has the entry {info.filename!r} twice")
            try:
                arrays[key] = _entry(archive, info, length)
            except ArchiveError:
                raise
            except Exception as exc:
                raise ArchiveError(f"has a damaged entry {info.filename!r}: {exc}") from None
    return arrays
