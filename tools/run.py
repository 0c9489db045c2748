"""`tiers-run`: run one function of an IR file through the JAX target, on arrays from the
command line; print the outputs or save them as `.npy`/`.npz`.

    tiers-run model.mlir --entry main --input x.npy --input "[1,2,3]:f32" --output out.npz
    tiers-run model.tiers --input x.npy     # an artifact of tiers.save: inputs and outputs
                                            # are its pytree leaves, in order

Every mistake in the input (malformed or non-UTF-8 IR, a broken artifact, unknown function,
wrong number, shape or dtype of inputs, a missing or invalid file, an output that cannot be
written) is one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import ast
import math
import os
import zipfile
import zlib
from collections.abc import Sequence
from typing import Any, NoReturn

import jax
import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute
from xdsl.parser import Parser
from xdsl.utils.exceptions import DiagnosticException, ParseError, VerifyException

from tiers.dialects import dtypes, lax_keys
from tiers.dialects.names import argument_names
from tiers.frontend.saving import (
    ArtifactError,
    Loaded,
    decode_tree,
    read_artifact,
    wide_dtypes,
)
from tiers.pipeline import PRESETS, Pipeline, PipelineError
from tiers.pipeline.context import make_context
from tiers.pipeline.driver import compile
from tiers.pipeline.files import replace_file
from tiers.pipeline.verify import IRParseError, OpSpans, parse_module, verify
from tiers.targets.jax import compile as jax_compile
from tiers.targets.jax.key_rules import as_data
from tiers.targets.walk import MissingRule
from tiers.tools.opt import ToolError, parse_pipeline, run_tool
from tiers.version import __version__

TOOL = "tiers-run"
KEYWORDS = ("zeros", "ones", "iota")

INPUT_HELP = f"""\
inputs (one --input per parameter of the entry function, in order):
  FILE.npy              an array saved with numpy.save
  FILE.npz              every array of a numpy.savez file, in order (e.g. a tiers-run --output)
  LITERAL[:TYPE]        a number or a nested list: 3, -1.5, true, inf, [1, 2, 3],
                        "[[1, 2], [3, 4]]:f32"; TYPE is an element type as in the IR (f32, f64,
                        f16, bf16, f8E4M3FN, f8E5M2, ..., i1, i8 ... i64, ui8 ... ui64) or a
                        numpy name (float32);
                        without TYPE, the value takes the parameter's element type (if it fits)
  zeros | ones | iota   an array of the parameter's type: all 0, all 1, or 0, 1, 2, ... in
                        row-major order
Each input must have the parameter's shape and element type exactly. Write a value that
starts with '-' as --input=-inf.

pipelines (-p): xDSL syntax ('canonicalize,cse'), presets {", ".join(PRESETS)}, or both.

outputs: printed one per line (numpy repr) unless --output: FILE.npy for one output,
FILE.npz for any number (arrays out0, out1, ...)."""


# ---------------------------------------------------------------------------------------
# Inputs.
# ---------------------------------------------------------------------------------------


def shown(text: str) -> str:
    """`text` as it can be printed: bytes that were not UTF-8 on the command line (Python's
    surrogate escapes) as `\\xff`."""
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def shape_str(shape: Sequence[int]) -> str:
    """`4x8`, or `()` for a scalar, as MLIR writes shapes."""
    return "x".join(str(d) for d in shape) if len(shape) else "()"


def ir_dtype_name(dtype: np.dtype) -> str:
    """The IR's name of a numpy dtype (`f32`), or numpy's when the IR has none."""
    try:
        return str(dtypes.element_type(dtype))
    except dtypes.UnsupportedDType:
        return dtype.name


def parse_element_type(text: str) -> np.dtype:
    """The numpy dtype of `f32`, `ui8`, ... (IR spelling) or of `float32` (numpy's)."""
    text = text.strip()
    try:
        parser = Parser(Context(), text)
        element = parser.parse_type()
        if parser.pos == len(text):
            return dtypes.to_numpy(element)
    except (ParseError, dtypes.UnsupportedDType):
        pass
    try:
        dtype = np.dtype(text)
        dtypes.element_type(dtype)  # raises for dtypes the IR cannot hold
        return dtype
    except (TypeError, ValueError, SyntaxError, dtypes.UnsupportedDType):
        raise ValueError(f"unknown element type '{shown(text)}' (use f32, f64, f16, bf16, i1, "
                         "i8, i16, i32, i64, ui8, ...)") from None


_NAMES = {"true": True, "false": False, "True": True, "False": False,
          "inf": math.inf, "nan": math.nan}


def parse_literal(text: str) -> Any:
    """A number, bool or nested list written in Python/JSON syntax (`inf`, `nan`, `true`)."""

    def value(node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float | bool):
            return node.value
        if isinstance(node, ast.Name) and node.id in _NAMES:
            return _NAMES[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = value(node.operand)
            if isinstance(inner, bool):
                raise ValueError("a sign before a bool")
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.List | ast.Tuple):
            return [value(e) for e in node.elts]
        raise ValueError(f"unexpected '{ast.unparse(node)}'")

    try:
        return value(ast.parse(text.strip(), mode="eval").body)
    except (SyntaxError, RecursionError, MemoryError):  # the last two: absurdly deep nesting
        raise ValueError("not a number or a list") from None


def _fit(array: np.ndarray, want: np.dtype) -> np.ndarray | None:
    """`array` as `want` when every value survives the cast (ints into floats, in range)."""
    if array.size == 0:
        return array.astype(want)
    if not np.can_cast(array.dtype, want, casting="same_kind"):
        return None
    cast = array.astype(want)
    if want.kind in "iub" and not np.array_equal(cast, array):
        return None
    return cast


def read_input(text: str, index: int, param: TensorType) -> list[tuple[np.ndarray, str]]:
    """The array(s) that `--input text` stands for, each with a name for messages (`param`:
    the parameter the first one goes to)."""
    where = f"input {index}"
    if shown(text) != text:
        raise ToolError(f"{TOOL}: error: {where}: '{shown(text)}' is not UTF-8 text")
    shape, want = tuple(param.get_shape()), dtypes.to_numpy(param.element_type)
    if text in KEYWORDS:
        if text == "iota":
            return [(np.arange(math.prod(shape)).reshape(shape).astype(want), text)]
        return [((np.zeros if text == "zeros" else np.ones)(shape, want), text)]
    if text.lower().endswith((".npy", ".npz")):
        return _load(text, where)
    literal, _, type_text = text.rpartition(":") if ":" in text else (text, "", "")
    try:
        value = parse_literal(literal)
    except ValueError as e:
        if os.path.isfile(text):  # a numpy file by another name
            return _load(text, where)
        raise ToolError(
            f"{TOOL}: error: {where}: cannot read '{_clip(text)}' ({_clip(str(e))}); give a "
            ".npy/.npz file, a "
            "literal like [1, 2]:f32, or zeros/ones/iota") from None
    try:
        dtype = parse_element_type(type_text) if type_text else None
    except ValueError as e:
        raise ToolError(f"{TOOL}: error: {where}: {e}") from None
    try:
        array = np.asarray(value, dtype=dtype)
    except (ValueError, OverflowError, TypeError) as e:
        reason = "rows of different lengths" if "inhomogeneous" in str(e) else str(e)
        raise ToolError(f"{TOOL}: error: {where}: cannot make an array of '{_clip(text)}': "
                        f"{reason}") from None
    if dtype is None:
        # An untyped literal takes the parameter's type when no value changes on the way.
        fitted = _fit(array, want)
        if fitted is None:
            raise ToolError(f"{TOOL}: error: {where}: {_clip(text)} does not fit element type "
                            f"{param.element_type}; give the values as that type")
        array = fitted
    return [(array, _clip(text, 40))]


def _clip(text: str, n: int = 60) -> str:
    """`text` as a message quotes it: cut short when long."""
    return text if len(text) <= n else text[:n - 3] + "..."


NPY_MAGIC, NPZ_MAGIC = b"\x93NUMPY", (b"PK\x03\x04", b"PK\x05\x06")


def _load(path: str, where: str) -> list[tuple[np.ndarray, str]]:
    """The arrays of a `.npy` or `.npz` file (told apart by their first bytes), never pickles."""
    cannot = f"{TOOL}: error: {where}: cannot read '{shown(path)}'"
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
            if magic.startswith(NPZ_MAGIC):
                return _load_npz(path, where)
            if magic != NPY_MAGIC:
                raise ToolError(f"{TOOL}: error: {where}: '{shown(path)}' is not a valid .npy "
                                "or .npz file (no NumPy header)")
            return [(_read_npy(f, f"{where}: '{shown(path)}'"), path)]
    except OSError as e:
        raise ToolError(f"{cannot}: {e.strerror or _reason(e)}") from None


def _reason(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _read_npy(f: Any, what: str) -> np.ndarray:
    """The array of the `.npy` stream `f`: header, size and dtype checked first."""
    invalid = f"{TOOL}: error: {what} is not a valid .npy file"
    try:
        f.seek(0)
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"format version {version[0]}.{version[1]}")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)  # 3.0: 2.0 + UTF-8 names
        shape, _, dtype = read_header(f)
    except (ValueError, EOFError, SyntaxError, TypeError) as e:
        raise ToolError(f"{invalid} ({_reason(e)})") from None
    if dtype.hasobject:
        raise ToolError(f"{invalid}: it holds Python objects, not numbers")
    need = math.prod(shape) * dtype.itemsize
    have = os.fstat(f.fileno()).st_size - f.tell() if hasattr(f, "fileno") else None
    if have is not None and have < need:
        raise ToolError(f"{invalid}: truncated ({shape_str(shape)} {dtype.name} needs {need} "
                        f"bytes of data, it holds {have})")
    try:
        f.seek(0)
        array = np.load(f, allow_pickle=False)
    except (ValueError, EOFError, OSError) as e:
        raise ToolError(f"{invalid} ({_reason(e)})") from None
    return _native(array)


def _native(array: np.ndarray) -> np.ndarray:
    """`array` in the machine's byte order (a big-endian file is no other element type)."""
    if array.dtype.byteorder not in "=|":
        return array.astype(array.dtype.newbyteorder("="))
    return array


def _load_npz(path: str, where: str) -> list[tuple[np.ndarray, str]]:
    """Every array of a `.npz` file, in order; each member must be a valid `.npy`."""
    try:
        # numpy leaves its own file open when the zip is broken; this one is closed
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:
            return [(_native(npz[name]), f"{path}:{name}") for name in npz.files]
    except ToolError:
        raise
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error, KeyError,
            NotImplementedError, RuntimeError) as e:
        reason = ("a member holds Python objects, not numbers" if "allow_pickle" in str(e)
                  else _reason(e))
        raise ToolError(f"{TOOL}: error: {where}: '{shown(path)}' is not a valid .npz file "
                        f"({reason})") from None


def check_input(array: np.ndarray, index: int, source: str, param: Attribute,
                name: str | None = None) -> np.ndarray:
    """`array` if it has `param`'s shape and element type; a `ToolError` saying which not
    (`name`: the parameter's, `x = x.npy` in the message)."""
    assert isinstance(param, TensorType)
    where = f"input {index} ({f'{name} = ' if name else ''}{shown(source)})"
    want_shape, want = tuple(param.get_shape()), dtypes.to_numpy(param.element_type)
    if array.shape != want_shape:
        raise ToolError(f"{TOOL}: error: {where}: expected shape {shape_str(want_shape)} "
                        f"({param}), got {shape_str(array.shape)}")
    if array.dtype != want:
        raise ToolError(f"{TOOL}: error: {where}: expected element type {param.element_type} "
                        f"({param}), got {ir_dtype_name(array.dtype)} ({array.dtype.name})")
    return array


def _wrong_count(name: str, params: Sequence[Attribute], got: int,
                 names: Sequence[str | None]) -> None:
    types = ", ".join(f"{n}: {p}" if n else str(p) for p, n in zip(params, names)) or "none"
    raise ToolError(f"{TOOL}: error: @{name} takes {len(params)} input(s) ({types}), got {got}")


def read_inputs(texts: Sequence[str], name: str, types: Sequence[Attribute],
                names: Sequence[str | None] | None = None) -> list[np.ndarray]:
    """All inputs of function `@name`, read and checked against its parameter `types`
    (`names`: the parameters' names for messages, `dialects/names.py`; None where unnamed)."""
    names = list(names) if names is not None else [None] * len(types)
    params: list[TensorType] = []
    for p in types:
        if not isinstance(p, TensorType):
            raise ToolError(f"{TOOL}: error: @{name} has a parameter of type {p}; "
                            "tiers-run passes tensors only")
        params.append(lax_keys.physical(p))  # a PRNG key argument is given as its data
    arrays: list[tuple[np.ndarray, int, str]] = []
    for i, text in enumerate(texts, 1):
        if len(arrays) == len(params):  # one too many; count the rest as one array each
            _wrong_count(name, params, len(arrays) + len(texts) - i + 1, names)
        arrays.extend((a, i, source) for a, source in read_input(text, i, params[len(arrays)]))
    if len(arrays) != len(params):
        _wrong_count(name, params, len(arrays), names)
    return [check_input(a, i, s, p, n)
            for (a, i, s), p, n in zip(arrays, params, names, strict=True)]


# ---------------------------------------------------------------------------------------
# The program.
# ---------------------------------------------------------------------------------------


def load_module(path: str) -> tuple[ModuleOp, OpSpans]:
    """The verified module in file `path`; `ToolError` for an unreadable or bad file."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise ToolError(f"{TOOL}: error: cannot read '{shown(path)}': {e.strerror}") from None
    try:
        module, spans = parse_module(make_context(), text, path)
        verify(module, spans)
    except (ToolError, IRParseError, VerifyException) as e:
        raise ToolError(_first_line(e)) from None
    except UnicodeDecodeError as e:  # in case the parser meets the bytes first
        line = text.count(b"\n", 0, e.start) + 1
        column = e.start - text.rfind(b"\n", 0, e.start)
        raise ToolError(f"{shown(path)}:{line}:{column}: error: invalid UTF-8 (byte "
                        f"0x{text[e.start]:02x}); IR files are UTF-8 text") from None
    return module, spans


def _first_line(error: Exception) -> str:
    """An IR diagnostic without its source excerpt: `file:line:col: error: message`."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else f"{TOOL}: error: {type(error).__name__}"


def checked_pipeline(spec: str) -> Pipeline:
    """The parsed pipeline `spec`; `ToolError` with the first line of what is wrong (tiers-opt
    also lists the passes; here that would bury the error)."""
    try:
        return parse_pipeline(spec, TOOL)
    except ToolError as e:
        raise ToolError(_first_line(e)) from None


def run_pipeline(spec: str, module: ModuleOp, spans: OpSpans, path: str) -> None:
    """Apply pipeline `spec` (presets allowed) through `tiers.pipeline.compile`, verifying as
    every entry point does; a pass that raises is named and leaves a reproducer."""
    passes = checked_pipeline(spec)
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        compile(module, passes, name=name, spans=spans)
    except DiagnosticException as e:
        raise ToolError(_first_line(e)) from None


def entry_function(module: ModuleOp, name: str, path: str) -> func.FuncOp:
    """`@name` of `module`, with a body; `ToolError` listing the functions otherwise."""
    functions = [op for op in module.body.block.ops if isinstance(op, func.FuncOp)]
    for fn in functions:
        if fn.sym_name.data == name:
            if not fn.body.blocks:
                raise ToolError(f"{TOOL}: error: @{name} in {path} is a declaration, no body")
            return fn
    names = ", ".join(f"@{f.sym_name.data}" for f in functions) or "none"
    raise ToolError(f"{TOOL}: error: no function @{name} in {path} (functions: {names})")


def _uses_64_bits(module: ModuleOp) -> bool:
    """Whether the program holds 64-bit values, which JAX keeps only with x64 enabled."""
    types = [t for op in module.walk() for t in op.result_types]
    types += [t for op in module.walk() if isinstance(op, func.FuncOp)
              for t in op.function_type.inputs]
    return any(isinstance(t, TensorType) and _is_wide(t.element_type) for t in types)


def _is_wide(element: Attribute) -> bool:
    try:
        return dtypes.needs_x64(dtypes.to_numpy(element))
    except dtypes.UnsupportedDType:
        return False


def execute(module: ModuleOp, fn: func.FuncOp, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Compile `fn` with the JAX target and run it on `inputs`."""
    if _uses_64_bits(module):
        # The IR says 64 bits; without x64, JAX would silently compute in 32.
        jax.config.update("jax_enable_x64", True)
    try:
        outs = jax_compile(module, fn.sym_name.data)(*inputs)
    except (MissingRule, dtypes.UnsupportedDType) as e:
        raise ToolError(f"{TOOL}: error: {e}") from None
    return [np.asarray(as_data(o)) for o in outs]  # PRNG keys as their data


def write_outputs(outputs: Sequence[np.ndarray], path: str | None) -> None:
    """Print `outputs` (numpy repr, one per line) or save them to `path`."""
    if path is None:
        for out in outputs:
            print(repr(out))
        return

    def write(f: Any) -> None:
        if path.endswith(".npy"):
            np.save(f, outputs[0], allow_pickle=False)
        else:
            # allow_pickle given (its default) so that mypy maps `**` to the arrays only
            np.savez(f, allow_pickle=True, **{f"out{i}": o for i, o in enumerate(outputs)})

    try:
        replace_file(path, write)  # a failed write leaves an existing file as it was
    except OSError as e:
        raise ToolError(f"{TOOL}: error: cannot write '{shown(path)}': "
                        f"{e.strerror or _reason(e)}") from None


def check_output_path(path: str | None, name: str, n: int) -> None:
    """Fail before running when `--output` cannot hold the `n` results of `@name`."""
    if path is None:
        return
    if not path.endswith((".npy", ".npz")):
        raise ToolError(f"{TOOL}: error: --output must be a .npy (one output) or .npz file, "
                        f"not '{shown(path)}'")
    if path.endswith(".npy") and n != 1:
        raise ToolError(f"{TOOL}: error: @{name} has {n} outputs; write them to "
                        "a .npz file (a .npy file holds one)")
    if os.path.isdir(path):
        raise ToolError(f"{TOOL}: error: cannot write '{shown(path)}': Is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ToolError(f"{TOOL}: error: cannot write '{shown(path)}': no directory "
                        f"'{shown(folder)}'")


class _Parser(argparse.ArgumentParser):
    """argparse, with a mistake on the command line one line and exit code 1 like the rest."""

    def error(self, message: str) -> NoReturn:
        raise ToolError(f"{TOOL}: error: {shown(message)} (see {TOOL} --help)")


def arg_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=TOOL, description="Run a function of a tiers IR file with the JAX target.",
        epilog=INPUT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", metavar="FILE.mlir|FILE.tiers",
                        help="the IR, in MLIR syntax, or an artifact written by tiers.save")
    parser.add_argument("--entry", metavar="NAME",
                        help="the function to run (default: main; an artifact's own)")
    parser.add_argument("--input", "-i", action="append", default=[], metavar="INPUT",
                        help="one input (see below); repeat for each parameter")
    parser.add_argument("--output", "-o", metavar="OUT",
                        help="save outputs to OUT.npy (one output) or OUT.npz (out0, out1, ...)")
    parser.add_argument("-p", "--passes", default="", metavar="PIPELINE",
                        help="passes to run before compiling (default: none)")
    parser.add_argument("--version", action="version", version=f"{TOOL} {__version__}")
    return parser


def is_artifact(path: str) -> bool:
    """Whether `path` names a `tiers.save` artifact (by its name or its zip signature)."""
    if path.endswith(".tiers"):
        return True
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"PK"
    except OSError:
        return False


def run_artifact(args: argparse.Namespace) -> None:
    """Run a saved artifact: its StableHLO, or with `-p` its imported IR re-optimized.
    Inputs and outputs are the leaves of its saved signature, in order."""
    try:
        artifact = read_artifact(args.file)
        manifest = artifact.manifest
        entry, signature = manifest["entry"], manifest["signature"]
        if args.entry is not None and args.entry != entry:
            raise ToolError(f"{TOOL}: error: no function @{args.entry} in {shown(args.file)} "
                            f"(an artifact holds one function, @{entry})")
        check_output_path(args.output, entry, len(signature["outputs"]["leaves"]))
        types = [dtypes.tensor_type(tuple(s["shape"]), jax.numpy.dtype(s["dtype"]))
                 for s in signature["inputs"]["leaves"]]
        inputs = read_inputs(args.input, entry, types,
                             [s.get("name") for s in signature["inputs"]["leaves"]])
        if args.passes:
            checked_pipeline(args.passes)  # a bad pipeline: one line, as for IR files
        if wide_dtypes(manifest):  # as for IR files: 64-bit values need JAX's x64 mode
            jax.config.update("jax_enable_x64", True)
        loaded = Loaded(artifact)
        call = loaded.recompile(args.passes) if args.passes else loaded
        outs = call(*decode_tree(signature["inputs"]["tree"], inputs))
    except ArtifactError as e:  # a SignatureError too: the artifact disagrees with itself
        raise ToolError(f"{TOOL}: error: {_first_line(e)}") from None
    except (DiagnosticException, PipelineError) as e:
        raise ToolError(_first_line(e)) from None
    write_outputs([np.asarray(o) for o in jax.tree_util.tree_leaves(outs)], args.output)


def run(argv: Sequence[str] | None = None) -> None:
    """`tiers-run` with arguments `argv`; raises `ToolError` for any mistake in the input."""
    args = arg_parser().parse_args(argv)
    if is_artifact(args.file):
        run_artifact(args)
        return
    entry = args.entry or "main"
    module, spans = load_module(args.file)
    fn = entry_function(module, entry, args.file)
    check_output_path(args.output, entry, len(fn.function_type.outputs))
    inputs = read_inputs(args.input, entry, fn.function_type.inputs.data,
                         argument_names(fn))
    if args.passes:
        run_pipeline(args.passes, module, spans, args.file)
        fn = entry_function(module, entry, args.file)
    write_outputs(execute(module, fn, inputs), args.output)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `tiers-run`: exit code 0, or 1 with one line on stderr."""
    run_tool(lambda: run(argv))


if __name__ == "__main__":
    main()
