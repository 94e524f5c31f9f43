"""Landlock through raw syscalls: the calling thread may read a few paths and do nothing else with files."""

from __future__ import annotations

import ctypes
import os
import stat
from dataclasses import dataclass

# The three syscalls have the same numbers on x86_64 and aarch64 (new syscalls share one table).
SYS_CREATE_RULESET = 444
SYS_ADD_RULE = 445
SYS_RESTRICT_SELF = 446

CREATE_RULESET_VERSION = 1 << 0  # flag: create_ruleset(NULL, 0, VERSION) returns the ABI instead of a ruleset
RULE_PATH_BENEATH = 1

# Filesystem access rights and the first ABI that knows each. A ruleset must not name a right its
# kernel does not know (EINVAL), and every right it names is denied unless a rule grants it.
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2: link or rename across folders (always denied under ABI 1)
FS_TRUNCATE = 1 << 14  # ABI 3: before it, truncate() and O_TRUNC were never restricted
FS_IOCTL_DEV = 1 << 15  # ABI 5: ioctl on devices opened after restrict_self
_FS_BY_ABI = {1: (1 << 13) - 1, 2: FS_REFER, 3: FS_TRUNCATE, 5: FS_IOCTL_DEV}

NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6: no signals to processes outside the domain

#: Rights a rule on a file (not a folder) may hold; others make add_rule fail with EINVAL.
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV


class RulesetAttr(ctypes.Structure):
    """struct landlock_ruleset_attr; it grew with the ABI, so only a prefix is passed to older kernels."""

    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),  # ABI 4
        ("scoped", ctypes.c_uint64),  # ABI 6
    ]


class PathBeneathAttr(ctypes.Structure):
    """struct landlock_path_beneath_attr: packed in the kernel, 12 bytes, not 16."""

    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


assert ctypes.sizeof(PathBeneathAttr) == 12


@dataclass(frozen=True)
class Restriction:
    """What ``restrict`` put in force: the ABI, what it handles and which paths stay readable."""

    abi: int
    handled_fs: int
    handled_net: int
    scoped: int
    readable: tuple[str, ...]
    skipped: tuple[str, ...]  # "path: reason" for paths that could not be granted


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _syscall(number: int, *args) -> int:
    """``syscall(number, *args)``; raises OSError with the kernel's errno when it returns -1."""
    result = _libc().syscall(ctypes.c_long(number), *args)
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def abi_version() -> int:
    """The kernel's Landlock ABI (1, 2, ...); OSError ENOSYS without Landlock, EOPNOTSUPP if disabled at boot."""
    return _syscall(SYS_CREATE_RULESET, ctypes.c_void_p(None), ctypes.c_size_t(0),
                    ctypes.c_uint32(CREATE_RULESET_VERSION))


def handled_fs(abi: int) -> int:
    """Every filesystem right the ABI knows."""
    return sum(bits for first, bits in _FS_BY_ABI.items() if abi >= first)


def ruleset_attr_size(abi: int) -> int:
    """Size of landlock_ruleset_attr as the ABI knows it (8, 16 from ABI 4, 24 from ABI 6)."""
    return 8 if abi < 4 else 16 if abi < 6 else 24


def restrict(read_paths: list[str]) -> Restriction:
    """Let the calling thread (and threads it starts later) only read ``read_paths``; irreversible.

    Needs ``PR_SET_NO_NEW_PRIVS`` first (or CAP_SYS_ADMIN). Handles every filesystem right the
    kernel knows, all TCP binds and connects (ABI 4), and scopes abstract UNIX sockets and signals
    to the domain (ABI 6). Raises OSError if the ruleset cannot be made or enforced.
    """
    abi = abi_version()
    attr = RulesetAttr(handled_fs(abi), NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                       SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    ruleset = _syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ruleset_attr_size(abi)),
                       ctypes.c_uint32(0))
    readable, skipped = [], []
    try:
        for path in read_paths:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError as exc:
                skipped.append(f"{path}: {exc.strerror}")
                continue
            try:
                is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
                rule = PathBeneathAttr(FS_READ_FILE | FS_READ_DIR if is_dir else FS_READ_FILE, fd)
                _syscall(SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH),
                         ctypes.byref(rule), ctypes.c_uint32(0))
                readable.append(path)
            except OSError as exc:
                skipped.append(f"{path}: {exc.strerror}")
            finally:
                os.close(fd)
        _syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
    return Restriction(abi, attr.handled_access_fs, attr.handled_access_net, attr.scoped,
                       tuple(readable), tuple(skipped))
