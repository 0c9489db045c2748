"""TF1-style graphs: `Graph`, `placeholder`, `Session`.

Inside `with tiers.Graph().as_default():`, and whenever an argument is a graph tensor, the
same `tiers.numpy` ops record a node instead of running (frontend/eager.py routes them here).
Each node keeps the JAX function and its arguments; its outputs' shapes and dtypes come from
`jax.eval_shape`. `Session.run` traces a function that evaluates the needed nodes with JAX and
compiles it with `tiers.jit` (the session's pipeline), once per set of fetches and feeds; the
jit's own cache then compiles once per feed shape/dtype signature.

Errors come where TF1 gives them, and say where: an op whose shapes or dtypes cannot work is
rejected when written (the same abstract evaluation eager ops get), its message led by the
user's line; an op that fails only for the fed sizes fails in `Session.run`, naming the line
that built it. Feeds are checked against their placeholders by name, and a closed session
refuses to run, as TF1's does.
"""

from __future__ import annotations

import contextlib
import itertools
import linecache
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from tiers.frontend import eager
from tiers.frontend.config import bad_argument, check_pipeline, shown
from tiers.frontend.jit import jit
from tiers.frontend.tensor import Operators, Tensor, accept_operand_type, holds_numbers
from tiers.frontend.tracebacks import boundary
from tiers.pipeline import Pipeline
from tiers.pipeline.check import IMPORT_DIALECTS

Shape = tuple[int | None, ...] | None


@dataclass(eq=False)
class Node:
    """One recorded op: `fn(*args, **kwargs)` with graph tensors among the arguments."""

    id: int
    name: str
    fn: Callable[..., Any] | None  # None: a placeholder
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    inputs: list[GraphTensor] = field(default_factory=list)
    outputs: list[GraphTensor] = field(default_factory=list)
    site: tuple[str, int] | None = None  # the user's file and line that built it


class GraphTensor(Operators):
    """A symbolic value in a `Graph`: an output of a node, evaluated by `Session.run`.

    `==` and hashing are by identity, as in TF1 (tensors are `feed_dict` keys); compare
    values with `tiers.numpy.equal`.
    """

    __slots__ = ("graph", "node", "index", "shape", "dtype")

    def __init__(self, graph: Graph, node: Node, index: int, shape: Shape, dtype: Any):
        self.graph, self.node, self.index = graph, node, index
        self.shape, self.dtype = shape, dtype

    @property
    def name(self) -> str:
        return f"{self.node.name}:{self.index}"

    @property
    def ndim(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __bool__(self) -> bool:
        raise TypeError(f"graph tensor '{self.name}' has no value until a Session runs it")

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(f"graph tensor '{self.name}' has no value until a Session runs it")

    def __len__(self) -> int:
        if not self.shape or self.shape[0] is None:
            raise TypeError(f"graph tensor '{self.name}' of shape {_fmt(self.shape)} has no "
                            "known length")
        return self.shape[0]

    def __iter__(self) -> Iterator[Any]:
        # Without this, Python would iterate through __getitem__ and never stop.
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"<tiers.GraphTensor '{self.name}' shape={_fmt(self.shape)} dtype={self.dtype}>"

    def eval(self, feed_dict: dict | None = None, session: Session | None = None) -> Any:
        """This tensor's value in `session` (default: the innermost `with Session()`)."""
        session = session or _default_session()
        return session.run(self, feed_dict)


accept_operand_type(GraphTensor)


class Graph:
    """A TF1-style dataflow graph: nodes in creation order (so inputs come before users)."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self._names: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def as_default(self) -> Iterator[Graph]:
        """Within the block, tiers ops on any arguments add nodes to this graph."""
        eager.LOCAL.graphs = (*eager.LOCAL.graphs, self)
        eager.refresh()
        try:
            yield self
        finally:
            eager.LOCAL.graphs = eager.LOCAL.graphs[:-1]
            eager.refresh()

    def get_tensor_by_name(self, name: str) -> GraphTensor:
        """The tensor called `name` (`"add:0"`, or `"add"` for output 0)."""
        if not isinstance(name, str):
            raise bad_argument("Graph.get_tensor_by_name", "name", "a str", name)
        node_name, _, index = name.partition(":")
        if index and not index.isdigit():
            raise ValueError(f"'{name}' is not a tensor name: tensor names are "
                             "'<op name>:<output index>'")
        for node in self.nodes:
            for tensor in node.outputs if node.name == node_name else ():
                if tensor.index == int(index or 0):
                    return tensor
        raise KeyError(f"no tensor '{name}' in the graph")

    def add_node(self, name: str, fn: Callable[..., Any] | None, args: tuple = (),
                 kwargs: dict | None = None, site: tuple[str, int] | None = None) -> Node:
        """A new node built at `site` (default: the caller's line outside tiers); its outputs
        are for the caller to attach."""
        site = site or _user_site()
        with self._lock:
            n = self._names.get(name, 0)
            self._names[name] = n + 1
            node = Node(len(self.nodes), name if n == 0 else f"{name}_{n}", fn, args,
                        kwargs or {}, _graph_tensors((args, kwargs)), site=site)
            self.nodes.append(node)
        return node


_DEFAULT_GRAPH = Graph()


def get_default_graph() -> Graph:
    """The graph of the innermost `as_default()` block, else the global default graph."""
    return eager.LOCAL.graphs[-1] if eager.LOCAL.graphs else _DEFAULT_GRAPH


def placeholder(dtype: Any, shape: Any = None, name: str | None = None) -> GraphTensor:
    """A graph input to be fed in `Session.run`; `None` in `shape` (or as it) means any size.

    TF1's order is `(dtype, shape)`; `(shape, dtype)` is accepted too, told apart by type.
    A bad dtype, shape or name is an error here, before any node is added.
    """
    if isinstance(dtype, tuple | list) and shape is not None:
        dtype, shape = shape, dtype
    if name is not None and not isinstance(name, str):
        raise bad_argument("tiers.placeholder", "name", "a str or None", name)
    dims, kind = _placeholder_shape(shape), _placeholder_dtype(dtype)
    graph = get_default_graph()
    node = graph.add_node(name or "Placeholder", None)
    node.outputs.append(GraphTensor(graph, node, 0, dims, kind))
    return node.outputs[0]


def _placeholder_dtype(dtype: Any) -> np.dtype:
    """`dtype` as a numpy dtype JAX arrays may have (bool or numeric), else a TypeError."""
    expected = "a numeric or boolean dtype (such as tiers.float32)"
    try:
        kind = None if dtype is None else jnp.dtype(dtype)  # np.dtype(None) is float64
    except TypeError:
        kind = None
    if kind is None or not holds_numbers(kind):
        raise bad_argument("tiers.placeholder", "dtype", expected, dtype)
    return kind


def _placeholder_shape(shape: Any) -> Shape:
    """`shape` (None, an int, or a sequence of ints and Nones) as a Shape, else an error."""
    if shape is None:
        return None
    expected = "None or a sequence of sizes (ints >= 0, None for any size)"
    dims = (shape,) if isinstance(shape, int) else shape
    if isinstance(dims, str) or not isinstance(dims, tuple | list | range):
        raise bad_argument("tiers.placeholder", "shape", expected, shape)
    out = []
    for d in dims:
        if d is not None and (isinstance(d, bool) or not isinstance(d, int | np.integer)):
            raise bad_argument("tiers.placeholder", "shape", expected, shape)
        if d is not None and d < 0:
            raise ValueError(f"tiers.placeholder: shape {tuple(dims)} has the negative size "
                             f"{d}; a size known only when fed is None")
        out.append(None if d is None else int(d))
    return tuple(out)


def _graph_tensors(tree: Any) -> list[GraphTensor]:
    return [x for x in jax.tree_util.tree_leaves(tree) if type(x) is GraphTensor]


def _substitute(tree: Any, values: dict[GraphTensor, Any]) -> Any:
    """`tree` with graph tensors replaced by `values` and Tensors by their arrays."""
    return jax.tree_util.tree_map(
        lambda x: values[x] if type(x) is GraphTensor else x.value if type(x) is Tensor else x,
        tree, is_leaf=lambda x: type(x) is Tensor)


def _symbolic_call(op: eager.Op, args: tuple, kwargs: dict) -> Any:
    """Record `op(*args, **kwargs)` as a node; the graph tensors standing for its outputs."""
    inputs = _graph_tensors((args, kwargs))
    graphs = {t.graph for t in inputs}
    graph = graphs.pop() if len(graphs) == 1 else get_default_graph()
    if graphs or (eager.LOCAL.graphs and inputs and graph is not get_default_graph()):
        raise ValueError(f"{op.name}: its graph tensors belong to another graph than the "
                         "default one; ops may only combine tensors of one graph")
    site = _user_site()
    try:  # before adding: errors leave no node
        structure = _infer(op.fn, args, kwargs, inputs)
    except Exception as e:  # noqa: BLE001 - whatever JAX raised, with the user's line
        raise _located(e, site, f"{op.name}: ") from None
    node = graph.add_node(op.name.rsplit(".", 1)[-1], op.fn, args, kwargs, site)
    if structure is None:  # unknown until fed: assume one tensor
        node.outputs.append(GraphTensor(graph, node, 0, None, None))
        return node.outputs[0]
    leaves, tree = jax.tree_util.tree_flatten(structure)
    outs = []
    for i, leaf in enumerate(leaves):  # non-array results (`shape`) stay Python values
        if isinstance(leaf, jax.ShapeDtypeStruct):
            leaf = GraphTensor(graph, node, i, _shape_of(leaf), leaf.dtype)
            node.outputs.append(leaf)
        outs.append(leaf)
    return jax.tree_util.tree_unflatten(tree, outs)


def _infer(fn: Callable[..., Any], args: tuple, kwargs: dict, inputs: list[GraphTensor]) -> Any:
    """The outputs of a node as ShapeDtypeStructs (unknown sizes as -1), or None if unknown.

    An input with unknown sizes is tried with two different sizes; output dims that differ
    are unknown. If both fail, the op may still work for the sizes the feeds will have (a
    reshape to 6 elements), unless `_sure_error` shows it cannot: then that error is raised
    now, as for known shapes. Otherwise nothing is known until the feeds arrive.
    """

    def at(shapes: list[tuple]) -> Any:
        specs = [jax.ShapeDtypeStruct(shape, t.dtype or jnp.float32)
                 for shape, t in zip(shapes, inputs)]

        def evaluate(*values: Any) -> Any:
            full_args, full_kwargs = _substitute((args, kwargs), dict(zip(inputs, values)))
            return fn(*full_args, **full_kwargs)

        return jax.eval_shape(evaluate, *specs)

    def sized(size: int) -> Any:
        return at([_concrete(t.shape, size) for t in inputs])

    if all(t.shape is not None and None not in t.shape and t.dtype is not None
           for t in inputs):
        return sized(0)  # shape errors surface here, when the op is written
    tried = [_attempt(sized, 2), _attempt(sized, 3)]
    if not any(isinstance(r, Exception) for r in tried):
        return jax.tree_util.tree_map(_merge, *tried)
    # Inputs of unknown rank or dtype are never judged: their stand-ins are guesses.
    if all(isinstance(r, Exception) for r in tried) and all(
            t.shape is not None and t.dtype is not None for t in inputs):
        error = _sure_error(tried, lambda: sized(720720), lambda: at(_symbolic(inputs)))
        if error is not None:
            raise error
    return None


def _attempt(compute: Callable[..., Any], *args: Any) -> Any:
    """`compute(*args)`, or the exception it raised."""
    try:
        return compute(*args)
    except Exception as e:  # noqa: BLE001 - any failure: `_infer` judges them together
        return e


def _sure_error(tried: list[Any], large: Callable[[], Any],
                symbolic: Callable[[], Any]) -> Exception | None:
    """The error of an op that fails whatever its unknown sizes, else None.

    Sure means: it fails alike (one exception type) for sizes 2, 3 and 720720 (divisible by
    1..16, so a split or reshape that needs a multiple works there), and fails with that type
    too when each unknown size is a symbol (JAX's shape polymorphism), where a condition on
    the sizes is inconclusive rather than false. Neither test is sound alone: a symbolic
    `(n, 3) - (3, n)` fails though n = 3 works, a reshape to (-1, 17) fails at every size
    tried. The symbolic error is the one raised: it names no stand-in size.
    """
    tried = [*tried, _attempt(large)]
    kind = type(tried[0])
    if not all(isinstance(r, Exception) and type(r) is kind for r in tried):
        return None
    error = _attempt(symbolic)
    return error if type(error) is kind else None


def _symbolic(inputs: list[GraphTensor]) -> list[tuple]:
    """The inputs' shapes with each unknown size a distinct symbol (n, or n0, n1, ...)."""
    count = sum(d is None for t in inputs for d in t.shape or ())
    names = ["n"] if count == 1 else [f"n{i}" for i in range(count)]
    symbols = iter(jax.export.symbolic_shape(", ".join(names)))
    return [tuple(next(symbols) if d is None else d for d in t.shape or ()) for t in inputs]


def _merge(a: Any, b: Any) -> Any:
    """One output inferred with two sizes for the unknown dims: differing dims are unknown."""
    if not isinstance(a, jax.ShapeDtypeStruct):
        return a
    if len(a.shape) != len(b.shape):  # the rank depends on the sizes: nothing is known
        return jax.ShapeDtypeStruct((-1,) * len(a.shape), a.dtype)
    return jax.ShapeDtypeStruct(tuple(p if p == q else -1 for p, q in zip(a.shape, b.shape)),
                                a.dtype)


def _concrete(shape: Shape, size: int) -> tuple[int, ...]:
    return tuple(size if d is None else d for d in (shape or ()))


def _shape_of(leaf: jax.ShapeDtypeStruct) -> Shape:
    return tuple(None if d == -1 else d for d in leaf.shape)


# Where a node is built: the innermost frame outside tiers and JAX (tiers' tests and examples
# are user code), as frontend/errors.py finds the user's line of a tracing error.
_TIERS = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_JAX = os.path.dirname(os.path.abspath(jax.__file__)) + os.sep
_USER_DIRS = ("tests" + os.sep, "examples" + os.sep)


def _user_site() -> tuple[str, int] | None:
    """The file and line of the innermost caller outside tiers and JAX (a cheap frame walk:
    every graph node records one)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        inside = filename.startswith(_JAX) or (filename.startswith(_TIERS) and not
                                               filename[len(_TIERS):].startswith(_USER_DIRS))
        if not inside:
            return filename, frame.f_lineno
        frame = frame.f_back
    return None


def _located(error: Exception, site: tuple[str, int] | None, what: str) -> Exception:
    """`error`, its message led by the user's line at `site` and `what`; the same type."""
    where = "an unknown location"
    if site is not None:
        source = linecache.getline(*site).strip()
        where = f"{site[0]}:{site[1]}" + (f": {source}" if source else "")
    if type(error) in (TypeError, ValueError, IndexError, NotImplementedError):
        return type(error)(f"{where}\n{what}{error}")
    error.add_note(f"{where}\n{what.rstrip(': ')}")  # JAX's own error types keep theirs
    return error


def _fmt(shape: Shape) -> str:
    if shape is None:
        return "<unknown>"
    dims = ", ".join("?" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


eager.set_symbolic(GraphTensor, _symbolic_call)
_sessions = threading.local()


def _default_session() -> Session:
    stack = getattr(_sessions, "stack", [])
    if not stack:
        raise ValueError("no default session: pass `session=` or use `with tiers.Session():`")
    return stack[-1]


class Session:
    """Runs a graph: `run(fetches, feed_dict)` compiles once per fetch/feed set and signature."""

    _ids = itertools.count()

    def __init__(self, graph: Graph | None = None, pipeline: str | Pipeline = "default"):
        if graph is not None and not isinstance(graph, Graph):
            raise bad_argument("tiers.Session", "graph", "a tiers.Graph or None", graph)
        # An unknown pass fails here, as for tiers.jit, not at the first run.
        check_pipeline(pipeline, "tiers.Session").check(IMPORT_DIALECTS)
        self.graph = graph or get_default_graph()
        self.pipeline = pipeline
        self._compiled: dict[tuple, Any] = {}
        self._closed = False

    def __enter__(self) -> Session:
        _sessions.stack = [*getattr(_sessions, "stack", []), self]
        return self

    def __exit__(self, *exc: Any) -> None:
        _sessions.stack = [s for s in _sessions.stack if s is not self]
        self.close()

    def close(self) -> None:
        """Drop the compiled programs; the session cannot run again (as in TF1)."""
        self._compiled.clear()
        self._closed = True

    @boundary  # the user's mistakes show the user's frames (frontend/tracebacks.py)
    def run(self, fetches: Any, feed_dict: dict | None = None) -> Any:
        """The values of `fetches` (a graph tensor or a pytree of them) as numpy arrays."""
        leaves, tree, program, inputs = self._prepare(fetches, feed_dict)
        values = iter(program(*inputs))
        outs = [np.asarray(next(values) if type(x) is GraphTensor else x) for x in leaves]
        return jax.tree_util.tree_unflatten(tree, outs)

    def graph_ir(self, fetches: Any, feed_dict: dict | None = None,
                 stage: str = "optimized") -> str:
        """The tiers IR that `run(fetches, feed_dict)` executes ("import" or "optimized")."""
        _, _, program, inputs = self._prepare(fetches, feed_dict)
        return program.lower(*inputs).as_text(stage)

    def _prepare(self, fetches: Any, feed_dict: dict | None) -> tuple[list, Any, Any, list]:
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")  # TF1's words
        if feed_dict is not None and not isinstance(feed_dict, Mapping):
            raise bad_argument("Session.run", "feed_dict", "a dict or None", feed_dict)
        leaves, tree = jax.tree_util.tree_flatten(fetches)
        leaves = [self._fetch(x) for x in leaves]
        targets = tuple(x for x in leaves if type(x) is GraphTensor)
        for t in targets:
            if t.graph is not self.graph:
                raise ValueError(f"fetch '{t.name}' belongs to another graph than the session's")
        feeds = {t: _check_feed(t, v) for t, v in self._resolve(feed_dict or {}).items()}
        fed = tuple(sorted(feeds, key=lambda t: (t.node.id, t.index)))
        program = self._compiled.get((targets, fed))
        if program is None:
            program = jit(_program(targets, fed), pipeline=self.pipeline)
            self._compiled[(targets, fed)] = program
        return leaves, tree, program, [feeds[t] for t in fed]

    def cache_info(self) -> dict[str, int]:
        """`programs` (fetch/feed sets) and `traces` (their compiled signatures) so far."""
        traces = sum(p.cache_info()["traces"] for p in self._compiled.values())
        return {"programs": len(self._compiled), "traces": traces}

    def _fetch(self, x: Any) -> Any:
        """A fetch: a graph tensor, one named by a string (as in TF1), or a value as is."""
        if type(x) is GraphTensor:
            return x
        if isinstance(x, str):
            return self.graph.get_tensor_by_name(x)
        if isinstance(x, Tensor | jax.Array) or holds_numbers(np.asarray(x).dtype):
            return x  # a value (a non-array result of an op, such as a shape) fetches itself
        raise TypeError(f"Session.run: fetch {shown(x)} is not a graph tensor or its name")

    def _resolve(self, feed_dict: Mapping) -> dict[GraphTensor, Any]:
        out = {}
        for key, value in feed_dict.items():
            tensor = self.graph.get_tensor_by_name(key) if isinstance(key, str) else key
            if type(tensor) is not GraphTensor or tensor.graph is not self.graph:
                raise TypeError(f"feed_dict key {key!r} is not a tensor of the session's graph")
            out[tensor] = value
        return out


def _check_feed(t: GraphTensor, value: Any) -> Any:
    """`value` as an array of `t`'s dtype, after checking its shape and dtype fit `t`."""
    what = "placeholder" if t.node.fn is None else "tensor"
    if type(value) is GraphTensor:
        raise TypeError(f"cannot feed graph tensor '{value.name}' for {what} '{t.node.name}'")
    array = value.value if type(value) is Tensor else value
    if not hasattr(array, "dtype") or not hasattr(array, "shape"):
        try:
            array = np.asarray(array)
        except ValueError as e:  # ragged nested lists
            raise ValueError(f"cannot feed a ragged value for {what} '{t.node.name}' of shape "
                             f"{_fmt(t.shape)}: {e}") from None
    if not isinstance(array, jax.Array) and not holds_numbers(array.dtype):  # strings, objects
        raise TypeError(f"cannot feed a value of dtype {array.dtype} for {what} "
                        f"'{t.node.name}'" + (f" of dtype {t.dtype}" if t.dtype else ""))
    if t.shape is not None and (len(array.shape) != len(t.shape) or any(
            d is not None and d != s for d, s in zip(t.shape, array.shape))):
        raise ValueError(f"cannot feed a value of shape {tuple(array.shape)} for {what} "
                         f"'{t.node.name}' of shape {_fmt(t.shape)}")
    if t.dtype is not None and array.dtype != t.dtype:
        if not np.can_cast(array.dtype, t.dtype, casting="same_kind"):
            raise TypeError(f"cannot feed a value of dtype {array.dtype} for {what} "
                            f"'{t.node.name}' of dtype {t.dtype}")
        array = array.astype(t.dtype)
    return array


def _program(targets: tuple[GraphTensor, ...], fed: tuple[GraphTensor, ...]
             ) -> Callable[..., list[Any]]:
    """A JAX function from the fed values to the fetched ones (only the needed nodes run)."""
    fed_set = set(fed)
    needed: dict[int, Node] = {}
    stack = [t.node for t in targets if t not in fed_set]
    while stack:
        node = stack.pop()
        if node.id in needed:
            continue
        needed[node.id] = node
        stack.extend(t.node for t in node.inputs if t not in fed_set)
    missing = [n for n in needed.values() if n.fn is None]
    if missing:
        names = ", ".join(f"'{n.name}' (shape {_fmt(n.outputs[0].shape)}, "
                          f"{n.outputs[0].dtype})" for n in sorted(missing, key=lambda n: n.id))
        raise ValueError(f"missing feed for placeholder {names}: add it to feed_dict")
    order = sorted(needed.values(), key=lambda n: n.id)

    def evaluate(*values: Any) -> list[Any]:
        env: dict[GraphTensor, Any] = dict(zip(fed, values))
        for node in order:
            assert node.fn is not None, "placeholders are fed (`missing` is empty)"
            args, kwargs = _substitute((node.args, node.kwargs), env)
            try:
                outs = jax.tree_util.tree_leaves(node.fn(*args, **kwargs))
            except Exception as e:  # noqa: BLE001 - at the line that built the op
                raise _located(e, node.site, f"graph op '{node.name}', built at the line "
                               "above, failed in Session.run: ") from None
            for tensor in node.outputs:
                env.setdefault(tensor, outs[tensor.index])
        return [env[t] for t in targets]

    return evaluate
