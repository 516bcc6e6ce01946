"""The validator process: compiles and imports candidate strategy sources off the bot's cycle.

Started once by the bot (`python -m nonstop.reload.worker FD_IN FD_OUT`) and kept warm.
For each job it executes the sources as fresh modules, checks the strategy contract
(the class exists, constructs with every slot's params, an optional `validate()`
passes) and sends back the compiled code, so the bot only runs code that already ran
here. A module body that loops is interrupted by an alarm after `soft_timeout_s` of CPU
time; one that holds the GIL in C is killed by the bot (hard timeout) and the worker is
replaced. The worker runs as SCHED_BATCH: its wake-up never preempts the bot's cycle.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.abc
import importlib.util
import os
import signal
import sys
import time
import traceback
from types import ModuleType, TracebackType
from typing import Any, Callable

from nonstop.reload.protocol import Contract, Failure, Job, Persist, Result, read_frame, write_frame


class BodyTimeout(BaseException):
    """Raised by the alarm inside a module body or constructor that used more CPU than the soft timeout."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise BodyTimeout()


def local_imports(tree: ast.AST, local: set[str] | dict[str, Any]) -> tuple[str, ...]:
    """Names of local modules a source imports, anywhere in it (module level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return tuple(sorted(n for n in found if n in local))


class JobFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the job's sources for local module names, ahead of every other finder."""

    def __init__(self, job: Job, progress: Callable[[str], None]) -> None:
        self.job = job
        self.progress = progress
        self.order: list[str] = []
        self.codes: dict[str, Any] = {}
        self.imports: dict[str, tuple[str, ...]] = {}
        self.executed: dict[str, str] = {}

    def path(self, name: str) -> str:
        return os.path.join(self.job.folder, f"{name}.py")

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname in self.job.sources:
            return importlib.util.spec_from_loader(fullname, self, origin=self.path(fullname))
        return None

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__
        source = self.job.sources[name]
        path = self.path(name)
        self.progress(name)
        tree = ast.parse(source, path)
        code = compile(tree, path, "exec", dont_inherit=True)
        module.__file__ = path
        self.imports[name] = local_imports(tree, self.job.sources)
        self.executed[name] = hashlib.sha256(source).hexdigest()
        exec(code, module.__dict__)
        self.order.append(name)
        self.codes[name] = code


def where(exc: BaseException, folder: str, fallback: str) -> tuple[str, int]:
    """The innermost traceback line inside HOME/strategies (the person's code), else the fallback file."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return exc.filename, int(exc.lineno or 0)
    best: tuple[str, int] | None = None
    tb: TracebackType | None = exc.__traceback__
    for frame, line in traceback.walk_tb(tb):
        name = frame.f_code.co_filename
        if os.path.dirname(name) == folder:
            best = (name, line)
    return best or (fallback, 0)


def describe(exc: BaseException, phase: str, folder: str, fallback: str) -> Failure:
    file, line = where(exc, folder, fallback)
    module = os.path.splitext(os.path.basename(file))[0] if os.path.dirname(file) == folder else \
        os.path.splitext(os.path.basename(fallback))[0]
    if isinstance(exc, SyntaxError):
        message = f"SyntaxError: {exc.msg}"
    elif isinstance(exc, BodyTimeout):
        message = "did not finish within the validation time limit (an endless loop?)"
    else:
        message = f"{type(exc).__name__}: {exc}"
    return Failure(module, file, line, message[:500], phase)


def _check_contract(contract: Contract, folder: str) -> Failure | None:
    module = sys.modules[contract.module]
    path = os.path.join(folder, f"{contract.module}.py")
    cls = getattr(module, contract.class_name, None)
    if not isinstance(cls, type):
        return Failure(contract.module, path, 0, f"{contract.module}.py defines no class {contract.class_name!r}; "
                                                 f"restore it or change `class` in nonstop.toml", "contract")
    if not callable(getattr(cls, "decide", None)):
        return Failure(contract.module, path, 0, f"class {contract.class_name} has no decide(ctx) method", "contract")
    for params in contract.params:
        phase = "construct"
        try:
            instance = cls(dict(params))
            check = getattr(instance, "validate", None)
            if callable(check):
                phase = "validate"
                if check() is False:
                    return Failure(contract.module, path, 0, f"{contract.class_name}.validate() returned False "
                                                             f"for params {params}", "validate")
        except BodyTimeout as exc:
            return describe(exc, "timeout", folder, path)
        except BaseException as exc:
            return describe(exc, phase, folder, path)
    return None


def run_job(job: Job, progress: Callable[[str], None]) -> Result:
    t0 = time.perf_counter()
    finder = JobFinder(job, progress)
    saved = {name: sys.modules.pop(name) for name in job.sources if name in sys.modules}
    sys.meta_path.insert(0, finder)
    failure: Failure | None = None
    current = job.roots[0] if job.roots else ""
    try:
        signal.setitimer(signal.ITIMER_PROF, job.soft_timeout_s)  # CPU time: a starved worker is not a loop
        try:
            for current in job.roots:
                importlib.import_module(current)
            for contract in job.contracts:
                failure = failure or _check_contract(contract, job.folder)
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
    except BodyTimeout as exc:
        failure = describe(exc, "timeout", job.folder, finder.path(current))
    except SyntaxError as exc:
        failure = describe(exc, "compile", job.folder, finder.path(current))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit in a module body is a broken module too, not the end of us
        failure = describe(exc, "import", job.folder, finder.path(current))
    finally:
        sys.meta_path.remove(finder)
        for name in job.sources:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
    elapsed = time.perf_counter() - t0
    if failure is not None:
        return Result(job.id, failure, elapsed_s=elapsed)
    import marshal

    order = tuple(n for n in finder.order if n in job.report)
    return Result(job.id, None, order, {n: marshal.dumps(finder.codes[n]) for n in order}, dict(finder.executed),
                  dict(finder.imports), elapsed)


def validate_here(job: Job) -> Result | None:
    """The same checks in this process: the bot's start, before any cycle runs, so a restart does not
    wait for a validator process to boot. None outside the main thread (signals): use the process."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    # Disarmed before our handler goes in: a CPU alarm still pending for someone else (the decide watchdog
    # of an engine that ran before in this process) must not land on it and read as a body timeout.
    timer = signal.setitimer(signal.ITIMER_PROF, 0)
    previous = signal.getsignal(signal.SIGPROF)
    signal.signal(signal.SIGPROF, _on_alarm)
    try:
        return run_job(job, lambda name: None)
    finally:  # put back whoever had the CPU alarm (the decide watchdog of another bot in this process)
        signal.signal(signal.SIGPROF, previous if previous is not None else signal.SIG_DFL)
        if timer[0] > 0:
            signal.setitimer(signal.ITIMER_PROF, *timer)


def persist(msg: Persist) -> str:
    """Carry out the bot's file writes, in order; the first error stops the batch and is returned."""
    import json

    try:
        for op in msg.ops:
            kind, path = op[0], op[1]
            if kind == "unlink":
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
                continue
            data = op[2] if kind == "write" else json.dumps(op[2]).encode()
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
    except OSError as exc:
        return str(exc)
    return ""


def main(argv: list[str]) -> int:
    fd_in, fd_out = int(argv[0]), int(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the bot; we leave when its pipe closes
    try:  # the bot's cycle comes first: a job arriving must not preempt it (SCHED_BATCH: no wake-up preemption)
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    signal.signal(signal.SIGPROF, _on_alarm)
    import nonstop.strategy  # noqa: F401  (warm: every strategy imports it)

    write_frame(fd_out, ("ready", os.getpid()))
    while True:
        job = read_frame(fd_in)
        if job is None:
            return 0
        if isinstance(job, Persist):
            error = persist(job)
            try:
                write_frame(fd_out, ("persisted", job.seq, error))
            except OSError:  # the bot stopped listening: the writes still matter
                pass
            continue
        jid: int = job.id

        def progress(name: str) -> None:
            write_frame(fd_out, ("exec", jid, name))

        write_frame(fd_out, run_job(job, progress))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
