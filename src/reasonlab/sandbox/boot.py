"""The first code run inside the sandbox: set resource limits, then run the user's program.

This file is copied into the sandbox and run by the sandbox's interpreter as
``python -I -S -B boot.py PROGRAM CPU_S MEMORY_MB PROCESSES FILE_SIZE_MB OPEN_FILES``. It runs
*inside* the isolated process, so the limits it sets (both soft and hard, so they cannot be
raised again) bind everything the program does, including the processes it starts. It must
only use the standard library.
"""

import resource
import sys


def _limit(which: int, value: int) -> None:
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        soft, hard = resource.getrlimit(which)
        if hard == resource.RLIM_INFINITY or value <= hard:
            raise
        resource.setrlimit(which, (hard, hard))


def main() -> None:
    path, cpu, mem, nproc, fsize, nofile = sys.argv[1:7]
    mib = 1024 * 1024
    # CPU: SIGXCPU at the soft limit (kills: Python does not handle it), SIGKILL one second later.
    resource.setrlimit(resource.RLIMIT_CPU, (int(cpu), int(cpu) + 1))
    _limit(resource.RLIMIT_AS, int(mem) * mib)
    _limit(resource.RLIMIT_NPROC, int(nproc))
    _limit(resource.RLIMIT_FSIZE, int(fsize) * mib)
    _limit(resource.RLIMIT_NOFILE, int(nofile))
    _limit(resource.RLIMIT_CORE, 0)
    with open(path, encoding="utf-8") as f:
        source = f.read()
    sys.argv = [path]
    namespace = {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__}
    try:
        code = compile(source, path, "exec")
        exec(code, namespace)  # noqa: S102 - this process *is* the sandbox
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - report like the interpreter would, minus this frame
        import traceback

        tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
        traceback.print_exception(type(e), e, tb)
        sys.stderr.flush()
        sys.exit(1)


if __name__ == "__main__":
    main()
