"""`tiers-reduce`: shrink tiers IR while a test still finds it interesting, as `mlir-reduce` and
creduce do.

    tiers-reduce crash.mlir --test ./still-crashes.sh > small.mlir

The test runs as `SCRIPT [TEST-ARG...] candidate.mlir` in a temporary folder, with a timeout;
exit code 0 means the candidate still shows the failure (creduce's convention). A script
holding a crash reproducer's rerun command (`tiers-opt -p PASS "$1"`) serves.

How (mlir-reduce's reduction tree, with creduce's chunks): each strategy names its sites in the
module (ops, functions, regions, signature entries) and transforms a chunk of them on a copy:
all sites first, then halves, quarters, ... one at a time. A candidate is tested only if it
verifies (tiers' verifier, dominance included), its text parses back and it is smaller than
the best so far (fewer ops, else shorter text, so the reduction ends); it replaces the best
when the test exits 0. The strategies run in turn until none makes progress:
- `functions`: delete functions and the calls to them;
- `ops`: delete ops; a use of a result takes an operand of the same type, else an argument of
  an enclosing block, else a new zero constant (mlir-reduce's operation deletion);
  `last-operands` again, taking the last operand of the type rather than the first;
- `inline`: replace a region op by the body of one region (a cond by a branch, a loop by one
  step, a fused kernel by its ops);
- `regions`: drop a region of an op that has several (a cond's branch);
- `signatures`: remove unused function arguments, and function results;
- `arguments`, `constants`: replace ops by (new) function arguments, or by zero constants;
- `passes`: run `inline`, `canonicalize`, `cse`, `dce` (mlir-reduce's opt-reduction-pass).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    BytesAttr,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    ModuleOp,
    TensorType,
    UnknownLoc,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.printer import Printer
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.traits import IsolatedFromAbove, IsTerminator
from xdsl.utils.exceptions import VerifyException

from tiers import pipeline
from tiers.dialects import dtypes, lax
from tiers.pipeline.context import make_context
from tiers.pipeline.verify import IRParseError, deep_recursion, parse_module, verify
from tiers.tools.opt import ToolError, check_output_path, run_tool, write_output
from tiers.version import __version__

TOOL = "tiers-reduce"
Interesting = Callable[[str], bool]
"""A test: the candidate's IR text -> whether it still shows the failure."""


class NotInteresting(ValueError):
    """The test does not find the input itself interesting: there is nothing to reduce."""


class _Skip(Exception):
    """The strategy cannot transform the chosen sites: no candidate."""


# ---------------------------------------------------------------------------------------
# Values that take the place of what a deleted op defined.
# ---------------------------------------------------------------------------------------

OPERAND, LAST_OPERAND = "operand", "last-operand"
ARGUMENT, NEW_ARGUMENT, CONSTANT = "argument", "new-argument", "constant"
DELETE = (OPERAND, ARGUMENT, CONSTANT)


def _isolated(op: Operation) -> Operation | None:
    """The nearest ancestor of `op` whose regions are isolated from above (its function)."""
    parent = op.parent_op()
    while parent is not None and not parent.has_trait(IsolatedFromAbove):
        parent = parent.parent_op()
    return parent


def _calls(module: ModuleOp) -> dict[str, list[func.CallOp]]:
    """Every `func.call` of `module`, by callee."""
    calls: dict[str, list[func.CallOp]] = {}
    for op in module.walk():
        if isinstance(op, func.CallOp):
            calls.setdefault(op.callee.root_reference.data, []).append(op)
    return calls


def _zero(type: Attribute) -> DenseIntOrFPElementsAttr | None:
    """A zero splat of tensor type `type`; None for a type no `lax.constant` holds."""
    if not isinstance(type, TensorType):
        return None
    try:
        dtype = np.dtype(dtypes.to_numpy(type.get_element_type()))
    except (dtypes.UnsupportedDType, TypeError):
        return None
    raw = np.zeros(1, np.int8 if dtype == np.bool_ else dtype.newbyteorder("<"))
    return DenseIntOrFPElementsAttr(type, BytesAttr(raw.tobytes()))


@dataclasses.dataclass
class _Values:
    """Picks, for a value about to go, another of its type that dominates its uses, trying the
    kinds in `policy` in order; remembers the constants it made (one per block and type)."""

    module: ModuleOp
    policy: tuple[str, ...]
    constants: dict[tuple[Block, Attribute], SSAValue] = dataclasses.field(default_factory=dict)
    calls: dict[str, list[func.CallOp]] | None = None

    def replace(self, op: Operation, results: Sequence[int] | None = None) -> None:
        """Replace the uses of `op`'s results (or those numbered `results`); `_Skip` if one
        has no replacement."""
        for i in range(len(op.results)) if results is None else results:
            result = op.results[i]
            if result.first_use is not None:
                result.replace_all_uses_with(self.value(result.type, op))

    def value(self, type: Attribute, op: Operation) -> SSAValue:
        """A value of `type` that dominates `op` (and so every use of its results)."""
        for kind in self.policy:
            found = {OPERAND: self._operand, LAST_OPERAND: self._last_operand,
                     ARGUMENT: self._argument,
                     NEW_ARGUMENT: self._new_argument, CONSTANT: self._constant}[kind](type, op)
            if found is not None:
                return found
        raise _Skip

    def _operand(self, type: Attribute, op: Operation) -> SSAValue | None:
        return next((v for v in op.operands if v.type == type), None)

    def _last_operand(self, type: Attribute, op: Operation) -> SSAValue | None:
        return next((v for v in reversed(op.operands) if v.type == type), None)

    def _argument(self, type: Attribute, op: Operation) -> SSAValue | None:
        # The outermost match: a function argument rather than a loop's carried value.
        found, block = None, op.parent_block()
        while block is not None:
            found = next((a for a in block.args if a.type == type), found)
            parent = block.parent_op()
            if parent is None or parent.has_trait(IsolatedFromAbove):
                break
            block = parent.parent_block()
        return found

    def _new_argument(self, type: Attribute, op: Operation) -> SSAValue | None:
        fn = _isolated(op)
        if self.calls is None:
            self.calls = _calls(self.module)
        if not isinstance(fn, func.FuncOp) or fn.is_declaration or self.calls.get(
                fn.sym_name.data):
            return None  # a new argument would need a value at every call
        block = fn.body.block
        arg = block.insert_arg(type, len(block.args))
        _update_signature(fn, None)
        return arg

    def _constant(self, type: Attribute, op: Operation) -> SSAValue | None:
        block = op.parent_block()
        if block is None or (value := _zero(type)) is None:
            return None
        if (block, type) not in self.constants:
            constant = lax.ConstantOp(value)
            Rewriter.insert_op(constant, InsertPoint.at_start(block))
            self.constants[block, type] = constant.result
        return self.constants[block, type]


def _update_signature(fn: func.FuncOp, kept_args: Sequence[int] | None,
                      kept_results: Sequence[int] | None = None) -> None:
    """`fn`'s type from its block arguments and return; its argument and result attributes
    cut to the entries `kept_*` (None: all kept, new arguments get empty ones)."""
    fn.update_function_type()
    for name, kept, count in (("arg_attrs", kept_args, len(fn.args)),
                              ("res_attrs", kept_results, len(fn.function_type.outputs))):
        attrs = fn.properties.get(name)
        if not isinstance(attrs, ArrayAttr):
            continue
        entries = list(attrs.data)
        if kept is not None:
            entries = [entries[i] for i in kept]
        entries += [DictionaryAttr({})] * (count - len(entries))
        fn.properties[name] = ArrayAttr(entries)


# ---------------------------------------------------------------------------------------
# Strategies: the sites of a module, and a transformation of a chunk of them.
# ---------------------------------------------------------------------------------------


class Strategy:
    """One way to shrink IR. `sites` must list the same sites for a module and its clone."""

    name = ""

    def sites(self, module: ModuleOp) -> list[Any]:
        raise NotImplementedError

    def apply(self, module: ModuleOp, sites: list[Any]) -> None:
        """Transform `sites` of `module` in place; `_Skip` when they cannot be."""
        raise NotImplementedError


def _chosen_ancestor(op: Operation, chosen: set[Operation]) -> bool:
    parent = op.parent_op()
    while parent is not None:
        if parent in chosen:
            return True
        parent = parent.parent_op()
    return False


class DeleteOps(Strategy):
    """Delete ops (not functions, not terminators), their uses taking other values."""

    def __init__(self, name: str, policy: tuple[str, ...]):
        self.name, self.policy = name, policy

    def sites(self, module: ModuleOp) -> list[Any]:
        return [op for op in module.walk() if not isinstance(op, ModuleOp | func.FuncOp)
                and not op.has_trait(IsTerminator)]

    def apply(self, module: ModuleOp, sites: list[Any]) -> None:
        values, chosen = _Values(module, self.policy), set(sites)
        for op in reversed(sites):  # users first; an op inside a chosen one goes with it
            if not _chosen_ancestor(op, chosen):
                values.replace(op)
                Rewriter.erase_op(op)


class DeleteFunctions(Strategy):
    """Delete functions; the calls to them go as deleted ops do."""

    name = "functions"

    def sites(self, module: ModuleOp) -> list[Any]:
        return [op for op in module.walk() if isinstance(op, func.FuncOp)]

    def apply(self, module: ModuleOp, sites: list[Any]) -> None:
        values, chosen = _Values(module, DELETE), set(sites)
        names = {fn.sym_name.data for fn in sites}
        for callee, calls in _calls(module).items():
            for call in calls if callee in names else ():
                if not _chosen_ancestor(call, chosen):
                    values.replace(call)
                    Rewriter.erase_op(call)
        for fn in reversed(sites):
            if not _chosen_ancestor(fn, chosen):
                Rewriter.erase_op(fn)


def _region_sites(module: ModuleOp, least: int) -> list[Any]:
    """(op, region index) for the single-block regions of ops with at least `least`."""
    return [(op, i) for op in module.walk()
            if len(op.regions) >= least and not isinstance(op, ModuleOp | func.FuncOp)
            for i, region in enumerate(op.regions) if len(region.blocks) == 1]


class InlineRegions(Strategy):
    """Replace a region op by the body of one of its regions: block arguments take the op's
    operands (or other values of their types), the results what the terminator yields."""

    name = "inline"

    def sites(self, module: ModuleOp) -> list[Any]:
        return _region_sites(module, 1)

    def apply(self, module: ModuleOp, sites: list[Any]) -> None:
        values, done = _Values(module, DELETE), set()
        for op, i in reversed(sites):  # inner ops first
            if op in done:
                continue
            done.add(op)
            block = op.regions[i].block
            term = block.last_op
            if (term is None or not term.has_trait(IsTerminator)
                    or term.operand_types != op.result_types):
                continue
            types = [a.type for a in block.args]
            args = (list(op.operands) if types == list(op.operand_types)
                    else [values.value(t, op) for t in types])
            Rewriter.inline_block(block, InsertPoint.before(op), args)
            yielded = list(term.operands)
            Rewriter.erase_op(term)
            Rewriter.replace_op(op, [], yielded)


class DropRegions(Strategy):
    """Drop regions of ops that have several (the op must still verify with fewer)."""

    name = "regions"

    def sites(self, module: ModuleOp) -> list[Any]:
        return _region_sites(module, 2)

    def apply(self, module: ModuleOp, sites: list[Any]) -> None:
        dropped: dict[Operation, set[int]] = {}
        for op, i in sites:
            dropped.setdefault(op, set()).add(i)
        for op, drop in reversed(dropped.items()):
            if len(drop) == len(op.regions):
                drop.discard(min(drop))
            regions = [Rewriter.move_region_contents_to_new_regions(r)
                       for i, r in enumerate(op.regions) if i not in drop]
            new = type(op).create(operands=op.operands, result_types=op.result_types,
                                  properties=dict(op.properties),
                                  attributes=dict(op.attributes), location=op.location,
                                  regions=regions)
            Rewriter.replace_op(op, new)


class Signatures(Strategy):
    """Remove unused function arguments and function results (and so from every call)."""

    name = "signatures"

    def sites(self, module: ModuleOp) -> list[Any]:
        sites: list[Any] = []
        for fn in module.walk():
            if isinstance(fn, func.FuncOp) and not fn.is_declaration:
                sites += [(fn, "arg", a.index) for a in fn.args if a.first_use is None]
                sites += [(fn, "result", i) for i in range(len(fn.function_type.outputs))]
        return sites

    def apply(self, module: ModuleOp, sites: list[Any]) -> None:
        values, calls = _Values(module, DELETE), _calls(module)
        cut: dict[func.FuncOp, tuple[set[int], set[int]]] = {}
        for fn, kind, i in sites:
            cut.setdefault(fn, (set(), set()))[kind == "result"].add(i)
        for fn, (args, results) in cut.items():
            kept_args = [i for i in range(len(fn.args)) if i not in args]
            kept_results = [i for i in range(len(fn.function_type.outputs)) if i not in results]
            for call in calls.get(fn.sym_name.data, []):
                values.replace(call, sorted(results))
                new = func.CallOp(call.callee, [call.operands[i] for i in kept_args],
                                  [call.result_types[i] for i in kept_results])
                new.attributes.update(call.attributes)
                kept = dict(zip(kept_results, new.results))
                Rewriter.replace_op(call, new, [kept.get(i) for i in range(len(call.results))])
            for ret in fn.walk():
                if isinstance(ret, func.ReturnOp):
                    ret.operands = [ret.operands[i] for i in kept_results]
            for i in sorted(args, reverse=True):
                fn.body.block.erase_arg(fn.args[i])
            _update_signature(fn, kept_args, kept_results)


class RunPasses(Strategy):
    """Run tiers passes over the whole module (a crash in one: no candidate)."""

    name = "passes"
    PASSES = ("inline", "canonicalize", "cse", "dce")

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def sites(self, module: ModuleOp) -> list[Any]:
        known = pipeline.get_all_passes()
        return [name for name in self.PASSES if name in known]

    def apply(self, module: ModuleOp, sites: list[Any]) -> None:
        try:
            for p in pipeline.parse(",".join(sites)):
                p.apply(self.ctx, module)
        except Exception as e:  # the pass's failure, not the reducer's: try something else
            raise _Skip from e


def strategies(ctx: Context) -> list[Strategy]:
    """The strategies, in the order one round tries them."""
    return [DeleteFunctions(), DeleteOps("ops", DELETE), InlineRegions(), DropRegions(),
            Signatures(), DeleteOps("last-operands", (LAST_OPERAND, ARGUMENT, CONSTANT)),
            DeleteOps("arguments", (ARGUMENT, NEW_ARGUMENT)),
            DeleteOps("constants", (CONSTANT,)), RunPasses(ctx)]


# ---------------------------------------------------------------------------------------
# The reduction loop.
# ---------------------------------------------------------------------------------------


def count_ops(module: ModuleOp) -> int:
    """The ops in `module`, the module itself not counted."""
    return sum(1 for _ in module.walk()) - 1


def print_module(module: ModuleOp, debuginfo: bool = False) -> str:
    """`module` as `tiers-opt` prints it (with `loc(...)` when `debuginfo`)."""
    out = io.StringIO()
    Printer(stream=out, print_debuginfo=debuginfo).print_op(module)
    return out.getvalue() + "\n"


@dataclasses.dataclass
class Reduction:
    """What `reduce_module` did: the smallest interesting module, its text and counts."""

    module: ModuleOp
    text: str
    ops_before: int
    ops_after: int
    tests: int = 0  # candidates the test ran on
    invalid: int = 0  # candidates skipped: they did not verify or could not be made
    errors: int = 0  # candidates skipped for an unexpected exception (a reducer bug)
    seconds: float = 0.0
    interrupted: bool = False


class _Reducer:
    def __init__(self, module: ModuleOp, interesting: Interesting, ctx: Context,
                 log: Callable[[str], None] | None):
        self.interesting, self.log, self.ctx = interesting, log or (lambda _: None), ctx
        self.strategies = strategies(ctx)
        self.debuginfo = any(not isinstance(op.location, UnknownLoc) for op in module.walk())
        text = print_module(module, self.debuginfo)
        ops = count_ops(module)
        self.best = Reduction(module, text, ops, ops)
        self.size = (ops, len(text))
        self.seen = {text}

    def run(self) -> Reduction:
        start = time.perf_counter()
        try:
            changed = True
            while changed:
                changed = False
                for strategy in self.strategies:
                    changed |= self._reduce(strategy)
        except KeyboardInterrupt:
            self.best.interrupted = True
        self.best.seconds = time.perf_counter() - start
        return self.best

    def _reduce(self, strategy: Strategy) -> bool:
        """Try `strategy` on chunks of its sites, all of them first, then halves ..."""
        chunk, changed = len(strategy.sites(self.best.module)), False
        while chunk:
            i = 0
            while i < len(strategy.sites(self.best.module)):
                if self._try(strategy, i, i + chunk):
                    changed = True  # the sites after the chunk now start at i
                else:
                    i += chunk
            chunk //= 2
        return changed

    def _try(self, strategy: Strategy, start: int, stop: int) -> bool:
        candidate = self.best.module.clone()
        try:
            strategy.apply(candidate, strategy.sites(candidate)[start:stop])
            verify(candidate)
            text = print_module(candidate, self.debuginfo)
        except (_Skip, VerifyException):
            self.best.invalid += 1
            return False
        except Exception as e:  # a reducer bug must not stop the reduction: count and say it
            self.best.errors += 1
            self.log(f"{strategy.name}: skipped a candidate: {type(e).__name__}: {e}")
            return False
        size = (count_ops(candidate), len(text))
        if size >= self.size or text in self.seen:
            return False
        self.seen.add(text)
        try:  # what the test reads must parse back: a printer/parser mismatch is skipped
            parse_module(self.ctx, text, "candidate.mlir")
        except IRParseError as e:
            self.best.invalid += 1
            self.log(f"{strategy.name}: skipped a candidate that does not parse back: {e}")
            return False
        self.best.tests += 1
        if not self.interesting(text):
            return False
        self.log(f"{strategy.name}: {self.size[0]} -> {size[0]} ops")
        self.best.module, self.best.text, self.best.ops_after = candidate, text, size[0]
        self.size = size
        return True


def reduce_module(module: ModuleOp, interesting: Interesting, *, ctx: Context | None = None,
                  log: Callable[[str], None] | None = None) -> Reduction:
    """The smallest module found that still verifies and that `interesting` accepts (its
    text as printed); `NotInteresting` when `interesting` rejects `module` itself. `module`
    is not changed. `log` gets a line per step taken."""
    with deep_recursion():
        reducer = _Reducer(module.clone(), interesting, ctx or make_context(), log)
        if not interesting(reducer.best.text):
            raise NotInteresting("the test does not accept the input as tiers prints it")
        return reducer.run()


# ---------------------------------------------------------------------------------------
# The test script.
# ---------------------------------------------------------------------------------------


class ScriptTest:
    """Runs `command + [candidate file]` in a temporary folder, with a timeout: interesting
    when it exits 0. `last` says how the last run ended."""

    def __init__(self, command: Sequence[str], filename: str, timeout: float):
        self.command, self.timeout, self.last = list(command), timeout, ""
        self._folder = tempfile.TemporaryDirectory(prefix="tiers-reduce-")
        self.path = Path(self._folder.name) / filename

    def __enter__(self) -> ScriptTest:
        return self

    def __exit__(self, *exc: object) -> None:
        self._folder.cleanup()

    def __call__(self, text: str) -> bool:
        self.path.write_text(text, encoding="utf-8")
        command = [*self.command, str(self.path)]
        try:
            process = self._start(command)
        except OSError as e:
            if e.errno != errno.ENOEXEC:
                raise
            process = self._start(["/bin/sh", *command])  # no `#!` line: as a shell runs it
        try:
            process.wait(self.timeout)
        except subprocess.TimeoutExpired:
            self.last = f"timed out after {self.timeout:g} s"
            return False
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # and whatever it started
            process.wait()
        self.last = f"exit code {process.returncode}"
        return process.returncode == 0

    def _start(self, command: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, cwd=self.path.parent, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)


# ---------------------------------------------------------------------------------------
# The command line.
# ---------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ToolError(f"{TOOL}: error: {message} (see {TOOL} --help)")


def arg_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=TOOL, description="Shrink tiers IR while a test script still exits "
                     "0 on it (the failure still shows); print the reduced IR.")
    add = parser.add_argument
    add("file", metavar="INPUT.mlir", help="the IR to reduce (it must parse and verify)")
    add("--test", required=True, metavar="SCRIPT",
        help="the interestingness test: run as `SCRIPT [TEST-ARG...] candidate.mlir` in a "
        "temporary folder; exit code 0 means the candidate still shows the failure")
    add("--test-arg", action="append", default=[], metavar="ARG",
        help="an argument for SCRIPT before the candidate's path (repeatable; write one that "
        "starts with '-' as --test-arg=-q)")
    add("--timeout", type=float, default=60.0, metavar="SECONDS",
        help="a test run taking longer counts as not interesting (default: 60)")
    add("-o", "--output", metavar="FILE", help="write the reduced IR to FILE, not stdout")
    add("-v", "--verbose", action="store_true", help="print each step taken to stderr")
    add("--version", action="version", version=f"{TOOL} {__version__}")
    return parser


def find_script(name: str) -> str:
    """The path of test `name` (a file, or a command on PATH); `ToolError` when it is
    missing or cannot run."""
    path = name if os.sep in name or os.path.exists(name) else shutil.which(name)
    if path is None or not os.path.exists(path):
        raise ToolError(f"{TOOL}: error: cannot find the test script '{name}'")
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise ToolError(f"{TOOL}: error: the test script '{name}' is not executable "
                        f"(chmod +x {name})")
    return os.path.abspath(path)


def read_module(path: str, ctx: Context) -> tuple[ModuleOp, str]:
    """The verified module in `path` and its text; `ToolError` with a located diagnostic
    otherwise."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise ToolError(f"{TOOL}: error: cannot read '{path}': {e.strerror}") from None
    try:
        with deep_recursion():
            module, spans = parse_module(ctx, text, path)
            verify(module, spans)
    except (IRParseError, VerifyException) as e:
        raise ToolError(str(e)) from None
    return module, text.decode("utf-8")  # the parser has checked it is UTF-8


def run(argv: Sequence[str] | None = None) -> None:
    """`tiers-reduce` with arguments `argv`; `ToolError` for any mistake in the input."""
    args = arg_parser().parse_args(argv)
    if args.timeout <= 0:
        raise ToolError(f"{TOOL}: error: --timeout must be positive")
    command = [find_script(args.test), *args.test_arg]
    if args.output not in (None, "-"):
        check_output_path(args.output, TOOL)
    ctx = make_context()
    module, original = read_module(args.file, ctx)
    log = (lambda line: print(f"{TOOL}: {line}", file=sys.stderr)) if args.verbose else None
    with ScriptTest(command, Path(args.file).name or "input.mlir", args.timeout) as test:
        if not test(original):
            raise ToolError(f"{TOOL}: error: the test does not exit 0 on '{args.file}' "
                            f"({test.last}): it must exit 0 while the failure shows")
        try:
            result = reduce_module(module, test, ctx=ctx, log=log)
        except NotInteresting as e:
            raise ToolError(f"{TOOL}: error: {e} ({test.last}); the input passes the test "
                            "only as written") from None
    if args.output in (None, "-"):
        sys.stdout.write(result.text)
    else:
        try:
            write_output(args.output, result.text)
        except OSError as e:
            raise ToolError(f"{TOOL}: error: cannot write '{args.output}': {e.strerror}") \
                from None
    stopped = " (interrupted: the smallest so far)" if result.interrupted else ""
    print(f"{TOOL}: {result.ops_before} -> {result.ops_after} ops, {result.tests} tests, "
          f"{result.seconds:.1f} s{stopped}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `tiers-reduce`: exit code 0 with the reduced IR, or 1 with one
    diagnostic."""
    run_tool(lambda: run(argv))


if __name__ == "__main__":
    main()
