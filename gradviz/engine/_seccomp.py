"""A seccomp filter in classic BPF: no programs, processes, sockets or kernel tricks; signals only to itself."""

from __future__ import annotations

import ctypes
import os
import struct

# Syscall numbers of the two architectures gradviz runs on (Linux uapi unistd_64.h and
# asm-generic/unistd.h; 424 and up are shared by all architectures). aarch64 has only the *at
# forms of the old path calls (no open, chmod, chown, fork ...): names a table lacks are skipped.
SYSCALLS = {
    "x86_64": {
        "execve": 59, "execveat": 322, "fork": 57, "vfork": 58, "clone": 56, "clone3": 435,
        "socket": 41, "socketpair": 53, "connect": 42, "bind": 49, "listen": 50, "accept": 43,
        "accept4": 288, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
        "pidfd_getfd": 438, "pidfd_open": 434, "kcmp": 312, "mount": 165, "umount2": 166,
        "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308, "mount_setattr": 442,
        "open_tree": 428, "open_tree_attr": 467, "move_mount": 429, "fsopen": 430, "fsmount": 432,
        "fsconfig": 431, "fspick": 433, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "keyctl": 250,
        "add_key": 248, "request_key": 249, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320, "open_by_handle_at": 304,
        "name_to_handle_at": 303, "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452,
        "chown": 92, "fchown": 93, "lchown": 94, "fchownat": 260, "setxattr": 188,
        "lsetxattr": 189, "fsetxattr": 190, "setxattrat": 463, "removexattr": 197,
        "lremovexattr": 198, "fremovexattr": 199, "removexattrat": 466, "file_setattr": 469,
        "utime": 132, "utimes": 235, "utimensat": 280, "futimesat": 261, "swapon": 167,
        "swapoff": 168, "reboot": 169, "quotactl": 179, "quotactl_fd": 443, "acct": 163,
        "uselib": 134, "pidfd_send_signal": 424, "process_madvise": 440, "kill": 62, "tgkill": 234,
        "tkill": 200, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297, "prlimit64": 302,
        "truncate": 76, "open": 2, "openat": 257, "openat2": 437, "creat": 85, "ioctl": 16,
        "fcntl": 72, "seccomp": 317, "sched_setparam": 142, "sched_setscheduler": 144,
        "sched_setaffinity": 203, "sched_setattr": 314, "setpriority": 141, "ioprio_set": 251,
        "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67, "semget": 64, "semop": 65, "semctl": 66,
        "semtimedop": 220, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "mq_open": 240,
        "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244,
        "mq_getsetattr": 245, "prctl": 157,
    },
    "aarch64": {
        "execve": 221, "execveat": 281, "clone": 220, "clone3": 435, "socket": 198,
        "socketpair": 199, "connect": 203, "bind": 200, "listen": 201, "accept": 202,
        "accept4": 242, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
        "pidfd_getfd": 438, "pidfd_open": 434, "kcmp": 272, "mount": 40, "umount2": 39,
        "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268, "mount_setattr": 442,
        "open_tree": 428, "open_tree_attr": 467, "move_mount": 429, "fsopen": 430, "fsmount": 432,
        "fsconfig": 431, "fspick": 433, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "keyctl": 219,
        "add_key": 217, "request_key": 218, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "kexec_load": 104, "kexec_file_load": 294, "open_by_handle_at": 265,
        "name_to_handle_at": 264, "fchmod": 52, "fchmodat": 53, "fchmodat2": 452, "fchown": 55,
        "fchownat": 54, "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7, "setxattrat": 463,
        "removexattr": 14, "lremovexattr": 15, "fremovexattr": 16, "removexattrat": 466,
        "file_setattr": 469, "utimensat": 88, "swapon": 224, "swapoff": 225, "reboot": 142,
        "quotactl": 60, "quotactl_fd": 443, "acct": 89, "pidfd_send_signal": 424,
        "process_madvise": 440, "kill": 129, "tgkill": 131, "tkill": 130, "rt_sigqueueinfo": 138,
        "rt_tgsigqueueinfo": 240, "prlimit64": 261, "truncate": 45, "openat": 56, "openat2": 437,
        "ioctl": 29, "fcntl": 25, "seccomp": 277, "sched_setparam": 118, "sched_setscheduler": 119,
        "sched_setaffinity": 122, "sched_setattr": 274, "setpriority": 140, "ioprio_set": 30,
        "mq_open": 180, "mq_unlink": 181, "mq_timedsend": 182, "mq_timedreceive": 183, "mq_notify": 184,
        "mq_getsetattr": 185, "msgget": 186, "msgctl": 187, "msgrcv": 188, "msgsnd": 189, "semget": 190,
        "semctl": 191, "semtimedop": 192, "semop": 193, "shmget": 194, "shmctl": 195, "shmat": 196,
        "shmdt": 197, "prctl": 167,
    },
}

#: seccomp_data.arch of each architecture (linux/audit.h). A syscall made through another ABI
#: (i386's int 0x80 on x86_64) has other numbers and would slip past the table: it kills.
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000  # x86_64's x32 ABI: same kernel, numbers | this bit

#: Answered EPERM whatever their arguments.
DENIED = (
    # new programs and processes (threads are clone with CLONE_THREAD, handled apart)
    "execve", "execveat", "fork", "vfork", "uselib",
    # the network, and UNIX sockets to other processes
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    # other processes' memory and files
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "pidfd_open", "kcmp",
    "pidfd_send_signal", "process_madvise", "tkill",
    # mounts and namespaces
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "mount_setattr", "open_tree",
    "open_tree_attr", "move_mount", "fsopen", "fsmount", "fsconfig", "fspick",
    # kernel attack surface no teaching program needs
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "keyctl", "add_key", "request_key", "init_module", "finit_module",
    "delete_module", "kexec_load", "kexec_file_load", "open_by_handle_at", "name_to_handle_at",
    "swapon", "swapoff", "reboot", "quotactl", "quotactl_fd", "acct",
    # file metadata, which Landlock does not cover
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
    "setxattr", "lsetxattr", "fsetxattr", "setxattrat", "removexattr", "lremovexattr",
    "fremovexattr", "removexattrat", "file_setattr", "utime", "utimes", "utimensat", "futimesat",
    # truncation by path and creat(): Landlock restricts them only from ABI 3
    "truncate", "creat",
    # System V and POSIX IPC: shared memory, semaphores and queues of the user's other programs
    # (no path, so Landlock does not see them; an IPC namespace is not always to be had)
    "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop", "msgget",
    "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive",
    "mq_notify", "mq_getsetattr",
)
#: prctl options refused: PR_SET_PDEATHSIG (1) would let the program clear its death with the app.
DENIED_PRCTLS = (1,)
#: Signals: allowed only when the target (first argument) is this process.
SELF_ONLY = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
#: Allowed only on pid 0 or this process (first argument): nothing Landlock covers stops a process
#: from lowering the limits (prlimit RLIMIT_CPU 0 kills), pinning or renicing another process of
#: the same user, the app included.
ZERO_OR_SELF = ("prlimit64", "sched_setparam", "sched_setscheduler", "sched_setaffinity", "sched_setattr")
#: setpriority(which, who, ...) and ioprio_set(which, who, ...): only "a process" (PRIO_PROCESS 0,
#: IOPRIO_WHO_PROCESS 1, not a group or a user), and only 0 or this process.
WHICH_PROCESS = {"setpriority": 0, "ioprio_set": 1}
#: Answered ENOSYS: glibc then falls back to clone() for threads, whose flags a filter can read
#: (clone3's flags sit in a struct the filter cannot see). openat2 likewise hides its flags.
NOT_IMPLEMENTED = ("clone3", "openat2")

CLONE_THREAD = 0x00010000
# Namespace flags: a thread never needs them (CLONE_NEWTIME is left out: in clone()'s flags its bit
# is part of the exit signal).
CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
O_TRUNC = 0o1000  # same on x86_64 and aarch64
# ioctls that push input into a terminal (TIOCSTI, TIOCLINUX) or route SIGIO to another process
# (FIOSETOWN, SIOCSPGRP); fcntls that route SIGIO/SIGURG (F_SETOWN, F_SETSIG, F_SETOWN_EX).
DENIED_IOCTLS = (0x5412, 0x541C, 0x8901, 0x8902)
DENIED_FCNTLS = (8, 10, 15)

# Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JSET_K = 0x45
BPF_RET_K = 0x06
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000
EPERM, ENOSYS = 1, 38

# Offsets in struct seccomp_data {int nr; u32 arch; u64 instruction_pointer; u64 args[6];}.
# Both architectures are little-endian: an argument's low 32 bits come first. The kernel reads
# pid_t, int flags and unsigned int cmd arguments from those low 32 bits only, so that is what
# the filter compares (comparing all 64 would let a caller slip past with junk in the high half).
OFFSET_NR = 0
OFFSET_ARCH = 4


def _arg_low(index: int) -> int:
    return 16 + 8 * index


# Seccomp syscall operation and flag; prctl options.
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


def native_arch() -> str | None:
    """The table name of this kernel's architecture (x86_64 or aarch64), or None if there is none."""
    return {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(os.uname().machine)


def _assemble(lines: list) -> list[tuple[int, int, int, int]]:
    """Resolve labels: ``("label", name)`` marks a place, a jump names its targets.

    Each instruction is ``(code, jt, jf, k)`` where jt and jf are 0 or a label; classic BPF jumps
    only forward, at most 255 instructions.
    """
    where, count = {}, 0
    for line in lines:
        if line[0] == "label":
            where[line[1]] = count
        else:
            count += 1
    program = []
    for line in lines:
        if line[0] == "label":
            continue
        code, jt, jf, k = line
        here = len(program) + 1
        offsets = []
        for target in (jt, jf):
            offset = where[target] - here if isinstance(target, str) else target
            if not 0 <= offset <= 255:
                raise ValueError(f"BPF jump to {target!r} out of range ({offset})")
            offsets.append(offset)
        program.append((code, offsets[0], offsets[1], k))
    return program


def build_filter(arch: str, own_pid: int) -> list[tuple[int, int, int, int]]:
    """The filter program for ``arch`` as (code, jt, jf, k) instructions; ``own_pid`` is baked in."""
    table = SYSCALLS[arch]
    ld = lambda offset: (BPF_LD_W_ABS, 0, 0, offset)  # noqa: E731 - reads like assembly
    lines: list = [
        ld(OFFSET_ARCH),
        (BPF_JEQ_K, 0, "kill", AUDIT_ARCH[arch]),
        ld(OFFSET_NR),
    ]
    if arch == "x86_64":
        lines.append((BPF_JSET_K, "deny", 0, X32_SYSCALL_BIT))
    # Syscalls whose arguments decide, then the plain lists; anything else is allowed.
    lines.append((BPF_JEQ_K, "clone", 0, table["clone"]))
    for name in SELF_ONLY:
        lines.append((BPF_JEQ_K, "self_only", 0, table[name]))
    for name in ZERO_OR_SELF:
        lines.append((BPF_JEQ_K, "pid_zero_or_self", 0, table[name]))
    for name in WHICH_PROCESS:
        lines.append((BPF_JEQ_K, name, 0, table[name]))
    lines.append((BPF_JEQ_K, "ioctl", 0, table["ioctl"]))
    lines.append((BPF_JEQ_K, "fcntl", 0, table["fcntl"]))
    lines.append((BPF_JEQ_K, "prctl", 0, table["prctl"]))
    if "open" in table:
        lines.append((BPF_JEQ_K, "open", 0, table["open"]))
    lines.append((BPF_JEQ_K, "openat", 0, table["openat"]))
    for name in NOT_IMPLEMENTED:
        lines.append((BPF_JEQ_K, "enosys", 0, table[name]))
    for name in DENIED:
        if name in table:
            lines.append((BPF_JEQ_K, "deny", 0, table[name]))
    lines += [
        (BPF_RET_K, 0, 0, RET_ALLOW),
        ("label", "clone"),  # a thread: CLONE_THREAD set, no namespace flag
        ld(_arg_low(0)),
        (BPF_JSET_K, "deny", 0, CLONE_NAMESPACES),
        (BPF_JSET_K, "allow", "deny", CLONE_THREAD),
        ("label", "pid_zero_or_self"),  # prlimit64(0, ...) is getrlimit/setrlimit on itself
        ld(_arg_low(0)),
        (BPF_JEQ_K, "allow", 0, 0),
        (BPF_JEQ_K, "allow", "deny", own_pid),
        ("label", "setpriority"),
        ld(_arg_low(0)),
        (BPF_JEQ_K, "who_zero_or_self", "deny", WHICH_PROCESS["setpriority"]),
        ("label", "ioprio_set"),
        ld(_arg_low(0)),
        (BPF_JEQ_K, "who_zero_or_self", "deny", WHICH_PROCESS["ioprio_set"]),
        ("label", "who_zero_or_self"),
        ld(_arg_low(1)),
        (BPF_JEQ_K, "allow", 0, 0),
        (BPF_JEQ_K, "allow", "deny", own_pid),
        ("label", "self_only"),
        ld(_arg_low(0)),
        (BPF_JEQ_K, "allow", "deny", own_pid),
        ("label", "ioctl"),
        ld(_arg_low(1)),
        *[(BPF_JEQ_K, "deny", 0, cmd) for cmd in DENIED_IOCTLS],
        (BPF_RET_K, 0, 0, RET_ALLOW),
        ("label", "fcntl"),
        ld(_arg_low(1)),
        *[(BPF_JEQ_K, "deny", 0, cmd) for cmd in DENIED_FCNTLS],
        (BPF_RET_K, 0, 0, RET_ALLOW),
        ("label", "prctl"),  # prctl(option, ...)
        ld(_arg_low(0)),
        *[(BPF_JEQ_K, "deny", 0, option) for option in DENIED_PRCTLS],
        (BPF_RET_K, 0, 0, RET_ALLOW),
        ("label", "open"),  # open(path, flags, mode)
        ld(_arg_low(1)),
        (BPF_JSET_K, "deny", "allow", O_TRUNC),
        ("label", "openat"),  # openat(dirfd, path, flags, mode)
        ld(_arg_low(2)),
        (BPF_JSET_K, "deny", "allow", O_TRUNC),
        ("label", "enosys"),
        (BPF_RET_K, 0, 0, RET_ERRNO | ENOSYS),
        ("label", "deny"),
        (BPF_RET_K, 0, 0, RET_ERRNO | EPERM),
        ("label", "allow"),
        (BPF_RET_K, 0, 0, RET_ALLOW),
        ("label", "kill"),
        (BPF_RET_K, 0, 0, RET_KILL_PROCESS),
    ]
    return _assemble(lines)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(program: list[tuple[int, int, int, int]], arch: str) -> str:
    """Put ``program`` in force for the calling thread (and, with TSYNC, its siblings); irreversible.

    Needs ``PR_SET_NO_NEW_PRIVS`` first (or CAP_SYS_ADMIN). Returns how it was installed; raises
    OSError if the kernel refused.
    """
    # struct sock_filter {u16 code; u8 jt; u8 jf; u32 k;}, 8 bytes each.
    raw = b"".join(struct.pack("=HBBI", *insn) for insn in program)
    buffer = ctypes.create_string_buffer(raw, len(raw))
    prog = _SockFprog(len(program), ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    result = libc.syscall(ctypes.c_long(SYSCALLS[arch]["seccomp"]), ctypes.c_uint(SECCOMP_SET_MODE_FILTER),
                          ctypes.c_uint(SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(prog))
    if result == 0:
        return "seccomp(SET_MODE_FILTER, TSYNC)"
    err = ctypes.get_errno()
    if result > 0:  # TSYNC names a thread it could not synchronise
        raise OSError(EPERM, f"thread {result} could not take the filter")
    if err != ENOSYS and err != 22:  # EINVAL: a kernel without TSYNC
        raise OSError(err, os.strerror(err))
    if libc.prctl(ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(prog),
                  ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return "prctl(PR_SET_SECCOMP)"
