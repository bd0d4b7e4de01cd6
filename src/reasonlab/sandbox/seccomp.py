"""The seccomp filter of sandboxed programs (PyPI `pyseccomp` + libseccomp, when present).

Refused with EPERM in every backend: ptrace and cross-process access (`process_vm_readv/writev`,
`pidfd_open`, `pidfd_getfd`, `kcmp`), mounts and namespaces, keyrings, BPF, perf, userfaultfd,
io_uring, module loading, reboot/kexec, swap, handle-based opens, fanotify and device nodes.
The Landlock backend also refuses `socket`/`socketpair` (bubblewrap gives the program an empty
network namespace instead).
"""

from __future__ import annotations

import errno
import functools
import os

DENY_ALWAYS = ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_getfd", "kcmp",
               "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "keyctl", "add_key",
               "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "init_module",
               "finit_module", "delete_module", "kexec_load", "reboot", "swapon", "swapoff",
               "open_by_handle_at", "name_to_handle_at", "fanotify_init", "mknod", "mknodat")


def seccomp_filter(sockets: bool = True):
    """A pyseccomp filter refusing DENY_ALWAYS (and sockets) with EPERM; None without pyseccomp."""
    try:
        import pyseccomp as sc
    except (ImportError, OSError):
        return None
    try:
        f = sc.SyscallFilter(sc.ALLOW)
        deny = sc.ERRNO(errno.EPERM)
        for name in (("socket", "socketpair") if sockets else ()) + DENY_ALWAYS:
            try:
                f.add_rule(deny, name)
            except (OSError, ValueError):
                pass  # a syscall this architecture or libseccomp does not know
        return f
    except OSError:
        return None


@functools.lru_cache(maxsize=1)
def seccomp_bpf() -> bytes | None:
    """The compiled program bubblewrap loads (`--seccomp FD`): DENY_ALWAYS, sockets allowed.

    None when pyseccomp/libseccomp is missing; the sandbox then relies on namespaces and
    dropped capabilities.
    """
    f = seccomp_filter(sockets=False)
    if f is None:
        return None
    fd = os.memfd_create("seccomp", 0)
    try:
        with os.fdopen(os.dup(fd), "wb") as out:
            f.export_bpf(out)
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks) or None
    except OSError:
        return None
    finally:
        os.close(fd)
