"""`tiers-opt`: `xdsl-opt` with tiers' dialects, passes and presets, and errors for people.

Everything `xdsl-opt` does works here too (`--split-input-file`, `--verify-diagnostics`,
`--print-op-generic`, `--print-debuginfo`, `-t`, ...). On top of it:
- `-p` also takes tiers' presets (`O0`, `O1`, `default`), alone or inside a pass list;
- bad input gives one diagnostic and exit code 1, never a traceback: a parse error or a
  verifier failure reads `file:line:col: error: message` followed by the source line, an
  unknown pass lists the known passes and presets;
- `-o FILE` is written only once the whole run succeeded, all at once (a failed run leaves an
  existing FILE as it was), and an empty input is an empty module, as in `mlir-opt`;
- `-t` offers the targets that print tiers IR (`mlir`) and `stablehlo`, the text the JAX
  target hands XLA for `@main`.
- `--emit=dot` prints, after the pipeline, a Graphviz DOT picture of the module instead of
  its IR (`pipeline/dot.py`; `dot -Tsvg` renders it), as `mlir-opt --view-op-graph` does.
`ToolError` and `run_tool` are shared with `tiers-run`; the located diagnostics both print
(`parse_module`, `verify`) live in `pipeline/verify.py`.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, NoReturn

import xdsl
from xdsl.dialects.builtin import ModuleOp
from xdsl.universe import Universe
from xdsl.utils.arg_spec import parse_spec
from xdsl.utils.exceptions import (
    ArgSpecParseError,
    DiagnosticException,
    ParseError,
)
from xdsl.xdsl_opt_main import xDSLOptMain

from tiers import pipeline
from tiers.frontend.tracebacks import is_library_file
from tiers.passes.statistics import collect, format_statistics
from tiers.pipeline.check import dialects_of
from tiers.pipeline.context import make_context
from tiers.pipeline.dot import module_to_dot
from tiers.pipeline.files import replace_file
from tiers.pipeline.instrument import Debug, PassFailure
from tiers.pipeline.messages import closest, suggestion
from tiers.pipeline.parse import LIST_PASSES
from tiers.pipeline.verify import (
    IRParseError,
    LocatingParser,
    OpSpans,
    deep_recursion,
    format_parse_error,
    verify,
)
from tiers.targets import jax as jax_target
from tiers.version import __version__

# xDSL's other targets (llvm, riscv-asm, wgsl, ...) print other dialects; `stablehlo` prints
# what the JAX target hands XLA for `@main` (targets/jax/hlo.py).
TARGETS = ("mlir", "stablehlo")
_XDSL = os.path.dirname(os.path.abspath(xdsl.__file__)) + os.sep
# What `--emit` prints after the pipeline: the IR (through `-t`), or its graph picture.
EMITS = ("mlir", "dot")


class ToolError(Exception):
    """A mistake in the user's input: printed as it is, then exit code 1 (no traceback)."""


def run_tool(body: Callable[[], None]) -> None:
    """Run a command-line tool's `body`: a `ToolError` becomes its message and exit code 1."""
    try:
        body()
    except (ToolError, IRParseError) as e:
        sys.stdout.flush()
        print(e, file=sys.stderr)
        sys.exit(1)


# ---------------------------------------------------------------------------------------
# Pipelines: xDSL's syntax, with presets expanded in place.
# ---------------------------------------------------------------------------------------


def parse_pipeline(spec: str, tool: str = "tiers-opt") -> pipeline.Pipeline:
    """The `Pipeline` of `spec` (presets expanded); `ToolError` for bad syntax, unknown
    names, bad options or an order that cannot work."""
    try:
        return pipeline.parse(spec)
    except pipeline.PipelineError as e:
        raise ToolError(f"{tool}: error: {e}") from None


def check_pass_names(flag: str, names: Sequence[str], tool: str = "tiers-opt") -> tuple[str, ...]:
    """The pass names given to `flag` (repeated or comma-separated, as MLIR takes them);
    `ToolError` naming the known passes for one that is not."""
    known = pipeline.get_all_passes()
    given = tuple(n.strip() for arg in names for n in arg.split(",") if n.strip())
    for name in given:
        if name not in known:
            raise ToolError(f"{tool}: error: {flag}: unknown pass '{name}'"
                            f"{suggestion(name, known)}\n"
                            f"passes: {closest(name, known, LIST_PASSES)}")
    return given


# ---------------------------------------------------------------------------------------
# Output: written once the run succeeded, all at once.
# ---------------------------------------------------------------------------------------


class _Buffer(io.StringIO):
    """The output of a run with `-o`, held until the run has succeeded."""

    def close(self) -> None:
        pass  # xdsl-opt closes its output stream when a run ends, even a failed one


def check_output_path(path: str, tool: str = "tiers-opt") -> None:
    """`ToolError` when `path` cannot be written (checked before any work, as mlir-opt opens
    its output first): a folder, a missing folder, a read-only file."""
    real = os.path.realpath(path)
    folder = os.path.dirname(real)
    if os.path.isdir(real):
        reason = "Is a directory"
    elif not os.path.isdir(folder):
        reason = "No such file or directory"
    elif (os.path.exists(real) and not _writable(real)
          or not os.access(folder, os.W_OK | os.X_OK)):  # the folder holds the temporary file
        reason = "Permission denied"
    else:
        return
    raise ToolError(f"{tool}: error: cannot write '{path}': {reason}")


def _writable(path: str) -> bool:
    # Its write bits too: root may write anything, and `os.replace` needs only the folder,
    # but a file marked read-only is not the compiler's to replace.
    return os.access(path, os.W_OK) and bool(os.stat(path).st_mode & 0o222)


def write_output(path: str, text: str) -> None:
    """Replace `path` by `text` at once (`replace_file`: a temporary file in the same folder,
    then `os.replace`), so no reader and no crash sees half a file; an existing file keeps
    its mode, a new one gets the umask's. `OSError` when it cannot."""
    replace_file(path, lambda f: f.write(text.encode("utf-8")))


# ---------------------------------------------------------------------------------------
# The driver.
# ---------------------------------------------------------------------------------------


class TiersOptMain(xDSLOptMain):
    """`xdsl-opt` with tiers' registry, presets, instrumentation and user-facing diagnostics."""

    version_format = f"tiers-opt {__version__} (xDSL {{xdsl_version}})"

    def __init__(self, args: Sequence[str] | None = None):
        self._spans: OpSpans = {}
        self._line_offset = 0
        self._chunk = b""
        self._output: _Buffer | None = None
        # Plugins must be loaded before xdsl-opt builds its tables (in super().__init__), and
        # xdsl-opt answers an unknown target with its usage text: both are read first.
        early = argparse.ArgumentParser(add_help=False)
        early.error = _usage_error  # type: ignore[method-assign]
        early.add_argument("--load-plugin", action="append", default=[])
        early.add_argument("-t", "--target", default="mlir")
        known = early.parse_known_args(args)[0]
        if known.target != "mlir":
            _check_target(known.target)
        for plugin in known.load_plugin:
            try:
                pipeline.load_plugin(plugin)
            except pipeline.PluginError as e:
                raise ToolError(f"tiers-opt: error: {e}") from None
        try:
            super().__init__(
                description="tiers' modular optimizer driver: xdsl-opt with tiers' dialects, "
                "passes and presets", args=args)
        except pipeline.PluginError as e:
            raise ToolError(f"tiers-opt: error: {e}") from None

    def register_all_dialects(self) -> None:
        self.ctx = make_context()  # xDSL's, tiers' and every plugin's dialects

    def register_all_passes(self) -> None:
        for name, factory in pipeline.get_all_passes().items():
            self.register_pass(name, factory)

    def register_all_targets(self) -> None:
        super().register_all_targets()
        self.available_targets = {k: v for k, v in self.available_targets.items()
                                  if k in TARGETS}
        self.available_targets["stablehlo"] = _emit_stablehlo

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        # A bad flag is one line and exit code 1, as every other mistake (not usage + 2).
        arg_parser.error = _usage_error  # type: ignore[method-assign]
        super().register_all_arguments(arg_parser)
        # The inherited help lists ~150 passes on one line; point at presets instead.
        arg_parser._option_string_actions["-p"].help = (
            "pass pipeline in xDSL/MLIR syntax, e.g. 'canonicalize,cse' or "
            "'inline,O1'; presets: " + ", ".join(pipeline.PRESETS) + " (--list-passes "
            "lists every pass)"
        )
        arg_parser.add_argument(
            "--list-passes", action=_ListPasses,
            help="print the name of every registered pass (tiers', xDSL's and loaded "
            "plugins'), one a line, and exit")
        add = arg_parser.add_argument
        add("--pass-statistics", action="store_true",
            help="print what each pass did (ops erased, patterns applied, groups formed) "
            "to stderr, as mlir-opt's --mlir-pass-statistics")
        add("--load-plugin", action="append", default=[], metavar="MODULE_OR_FILE",
            help="load the xDSL Universe of a module (`pkg.mod`, `pkg.mod:NAME`) or a .py "
            "file (its UNIVERSE) for this run; repeatable")
        add("--print-ir-before", action="append", default=[], metavar="PASS",
            help="print the IR before each run of PASS to stderr; repeatable")
        add("--print-ir-after", action="append", default=[], metavar="PASS",
            help="print the IR after each run of PASS to stderr; repeatable")
        add("--print-ir-after-all", action="store_true", help="print the IR after every pass")
        add("--print-ir-after-change", action="store_true",
            help="print the IR after a pass only if the pass changed it")
        add("--print-ir-tree-dir", metavar="DIR",
            help="write the IR dumps to DIR/<input>/<n>_<pass>.mlir instead of stderr "
            "(after every pass unless another --print-ir flag says which)")
        add("--mlir-timing", action="store_true",
            help="print the wall time of each pass and the total to stderr")
        add("--verify-semantics", action="store_true",
            help="run the IR before and after every pass on generated inputs with the "
            "reference target and stop at the first pass that changes the values")
        add("--reproducer-dir", default=".", metavar="DIR",
            help="where a failing pass's <input>.reproducer.mlir goes (default: .)")
        add("--emit", choices=EMITS, default="mlir",
            help="what to print after the pipeline: the IR (mlir, the default) or a "
            "Graphviz DOT picture of it (dot: one node per op, fused kernels and region "
            "ops as clusters, edges labelled with types, source lines as tooltips)")

    def register_all_frontends(self) -> None:
        def parse_mlir(stream: IO[bytes]) -> ModuleOp:
            # ParseError goes up to xdsl-opt's loop (for --parsing-diagnostics), then `run`.
            self._chunk = stream.read()
            parser = LocatingParser(self.ctx, self._chunk, self.get_input_name(),
                                    self._line_offset)
            module = parser.parse_module(not self.args.no_implicit_module)
            self._spans = parser.op_spans
            return module

        self.available_frontends["mlir"] = parse_mlir

    def get_input_stream(self) -> tuple[IO[bytes], str]:
        try:
            stream, extension = super().get_input_stream()
        except OSError as e:
            raise ToolError(f"tiers-opt: error: cannot read '{e.filename}': {e.strerror}") from None
        # Like mlir-opt, read any file as MLIR text unless a frontend claims its extension.
        return stream, extension if extension in self.available_frontends else "mlir"

    def parse_chunk(self, chunk: IO[bytes], file_extension: str,
                    start_offset: int = 0) -> ModuleOp | None:
        self._line_offset = start_offset  # so `--split-input-file` errors give file lines
        return super().parse_chunk(chunk, file_extension, start_offset)

    def prepare_output(self) -> IO[str]:
        if self.args.output_file in (None, "-"):  # `-o -` is stdout, as in mlir-opt
            return sys.stdout
        self._output = _Buffer()
        return self._output

    def setup_pipeline(self) -> None:
        a = self.args
        if a.emit != "mlir" and a.target != "mlir":
            raise ToolError(f"tiers-opt: error: --emit={a.emit} prints its own output and "
                            f"takes no target (-t {a.target})")
        self.passes = parse_pipeline(a.passes)
        before = check_pass_names("--print-ir-before", a.print_ir_before)
        after = check_pass_names("--print-ir-after", a.print_ir_after)
        self.debug = Debug(
            print_ir_before=before, print_ir_after=after,
            print_ir_after_all=a.print_ir_after_all or a.print_between_passes,
            print_ir_after_change=a.print_ir_after_change, print_ir_tree_dir=a.print_ir_tree_dir,
            timing=a.mlir_timing or a.time_passes, verify_each=not a.disable_verify,
            verify_semantics=a.verify_semantics, reproducer_dir=a.reproducer_dir)

    def apply_passes(self, prog: ModuleOp) -> None:
        if not self.args.disable_verify:
            verify(prog, self._spans)  # the input itself, before any pass is blamed
        try:
            self.passes.check(dialects_of(prog))
        except pipeline.PipelineError as e:
            raise ToolError(f"tiers-opt: error: {e}") from None
        name = self.get_input_name()
        text, offset, generic = self._chunk, self._line_offset, not self.args.no_implicit_module

        def replay() -> ModuleOp:
            return LocatingParser(self.ctx, text, name, offset).parse_module(generic)

        pipeline.compile(prog, self.passes, ctx=self.ctx, debug=self.debug,
                         verify=not self.args.disable_verify, name=Path(name).name,
                         replay=replay, spans=self._spans)

    def output_resulting_program(self, prog: ModuleOp) -> str:
        if self.args.emit == "dot":
            return module_to_dot(prog, Path(self.get_input_name()).name)
        return super().output_resulting_program(prog)

    def run(self) -> None:
        if self.args.output_file not in (None, "-"):
            check_output_path(self.args.output_file)  # before any work, as mlir-opt does
        try:
            with deep_recursion():  # xDSL verifies, rewrites and prints IR recursively
                if self.args.pass_statistics:
                    with collect() as stats:
                        super().run()
                    sys.stdout.flush()
                    print(format_statistics(stats), file=sys.stderr, end="")
                else:
                    super().run()
            if self._output is not None:
                write_output(self.args.output_file, self._output.getvalue())
        except ToolError:
            raise
        except RecursionError:
            raise ToolError("tiers-opt: error: the IR is nested too deeply for tiers-opt "
                            "(Python's recursion limit)") from None
        except ParseError as e:
            raise ToolError(format_parse_error(e)) from None
        except PassFailure as e:
            raise ToolError(f"tiers-opt: error: {e}") from None
        except DiagnosticException as e:
            notes = "".join(f"\n{n}" for n in getattr(e, "__notes__", ()))
            raise ToolError(f"{e}{notes}".rstrip("\n")) from None
        except OSError as e:
            raise ToolError(
                f"tiers-opt: error: cannot write '{e.filename}': {e.strerror}") from None
        except Exception as e:
            if getattr(e, "tiers_pass", None) is None:
                raise  # a bug in tiers-opt itself: keep the traceback
            notes = "\n".join(getattr(e, "__notes__", ()))
            raise ToolError(f"{plugin_traceback(e)}tiers-opt: error: {notes}") from None


def plugin_traceback(e: BaseException) -> str:
    """Python's traceback of `e` cut to the frames of code that is neither tiers' nor xDSL's
    (the plugin pattern or pass that raised), so its author sees their line; "" when none."""
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if not is_library_file(f.filename) and not f.filename.startswith(_XDSL)]
    if not frames:
        return ""
    why = (str(e).splitlines() or [""])[-1] if isinstance(e, DiagnosticException) \
        else (str(e).splitlines() or [""])[0]
    return ("Traceback (most recent call last; tiers' and xDSL's frames left out):\n"
            + "".join(traceback.format_list(frames)) + f"{type(e).__name__}: {why}\n")


class _ListPasses(argparse.Action):
    """`--list-passes`: every pass name, one a line (plugins are loaded by then), then exit."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help=kwargs.get("help"))  # type: ignore[arg-type]

    def __call__(self, parser: argparse.ArgumentParser, namespace: object, values: object,
                 option_string: str | None = None) -> None:
        print("\n".join(sorted(pipeline.get_all_passes())))
        parser.exit()


def _usage_error(message: str) -> NoReturn:
    """argparse's answer to a bad command line, as one line."""
    raise ToolError(f"tiers-opt: error: {message} (tiers-opt --help lists the options)")


def _check_target(spec: str) -> None:
    """`ToolError` for a `-t` target that does not print tiers IR."""
    try:
        parsed = parse_spec(spec)
    except ArgSpecParseError as e:  # a BaseException in xDSL 0.74
        raise ToolError(f"tiers-opt: error: bad target '{spec}': "
                        f"{str(e).splitlines()[-1].strip()}") from None
    targets = Universe.get_multiverse().all_targets
    if parsed.name not in TARGETS:
        why = "prints other dialects than tiers'" if parsed.name in targets else "is unknown"
        raise ToolError(f"tiers-opt: error: target '{parsed.name}' {why}; "
                        f"targets: {', '.join(TARGETS)}")
    if parsed.parameters and parsed.name == "stablehlo":
        raise ToolError("tiers-opt: error: target 'stablehlo' takes no options")
    if parsed.parameters:
        try:
            targets[parsed.name]().from_spec(parsed)
        except ValueError as e:
            raise ToolError(f"tiers-opt: error: target '{parsed.name}': {e}") from None


def _emit_stablehlo(module: ModuleOp, out: IO[str]) -> None:
    """`-t stablehlo`: the StableHLO text of `@main` (the function tiers-run runs)."""
    try:
        out.write(jax_target.stablehlo_text(module, "main"))
    except KeyError as e:  # no @main: the message lists the functions there are
        raise ToolError(f"tiers-opt: error: -t stablehlo: {e.args[0]}") from None


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `tiers-opt`: exit code 0 on success, 1 with one diagnostic otherwise."""
    run_tool(lambda: TiersOptMain(args=argv).run())


if __name__ == "__main__":
    main()
