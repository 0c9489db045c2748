"""TF1-style graphs: `Graph`, `placeholder`, `Session`.

Inside `with tiers.Graph().as_default():`, and whenever an argument is a graph tensor, the
same `tiers.numpy` ops record a node instead of running (frontend/eager.py routes them here).
Each node keeps the JAX function and its arguments; its outputs' shapes and dtypes come from
`jax.eval_shape`. `Session.run` traces a function that evaluates the needed nodes with JAX and
compiles it with `tiers.jit` (the session's pipeline), once per set of fetches and feeds; the
jit's own cache then compiles once per feed shape/dtype signature.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from tiers.frontend import eager
from tiers.frontend.jit import jit
from tiers.frontend.tensor import Operators, Tensor, accept_operand_type

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

    __eq__ = object.__eq__  # type: ignore[assignment]
    __ne__ = object.__ne__  # type: ignore[assignment]
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
        try:
            yield self
        finally:
            eager.LOCAL.graphs = eager.LOCAL.graphs[:-1]

    def get_tensor_by_name(self, name: str) -> GraphTensor:
        """The tensor called `name` (`"add:0"`, or `"add"` for output 0)."""
        node_name, _, index = name.partition(":")
        for node in self.nodes:
            for tensor in node.outputs if node.name == node_name else ():
                if tensor.index == int(index or 0):
                    return tensor
        raise KeyError(f"no tensor '{name}' in the graph")

    def add_node(self, name: str, fn: Callable[..., Any] | None, args: tuple = (),
                 kwargs: dict | None = None) -> Node:
        """A new node; its outputs are for the caller to attach."""
        with self._lock:
            n = self._names.get(name, 0)
            self._names[name] = n + 1
            node = Node(len(self.nodes), name if n == 0 else f"{name}_{n}", fn, args,
                        kwargs or {}, _graph_tensors((args, kwargs)))
            self.nodes.append(node)
        return node


_DEFAULT_GRAPH = Graph()


def get_default_graph() -> Graph:
    """The graph of the innermost `as_default()` block, else the global default graph."""
    return eager.LOCAL.graphs[-1] if eager.LOCAL.graphs else _DEFAULT_GRAPH


def placeholder(dtype: Any, shape: Any = None, name: str | None = None) -> GraphTensor:
    """A graph input to be fed in `Session.run`; `None` in `shape` (or as it) means any size.

    TF1's order is `(dtype, shape)`; `(shape, dtype)` is accepted too, told apart by type.
    """
    if isinstance(dtype, tuple | list) and shape is not None:
        dtype, shape = shape, dtype
    graph = get_default_graph()
    node = graph.add_node(name or "Placeholder", None)
    shape = None if shape is None else tuple(None if d is None else int(d) for d in shape)
    node.outputs.append(GraphTensor(graph, node, 0, shape, jnp.dtype(dtype)))
    return node.outputs[0]


def _graph_tensors(tree: Any) -> list[GraphTensor]:
    return [x for x in jax.tree_util.tree_leaves(tree) if type(x) is GraphTensor]


def _substitute(tree: Any, values: dict[GraphTensor, Any]) -> Any:
    """`tree` with graph tensors replaced by `values` and Tensors by their arrays."""
    return jax.tree_util.tree_map(
        lambda x: values[x] if type(x) is GraphTensor else x._value if type(x) is Tensor else x,
        tree, is_leaf=lambda x: type(x) is Tensor)


def _symbolic_call(op: eager.Op, args: tuple, kwargs: dict) -> Any:
    """Record `op(*args, **kwargs)` as a node; the graph tensors standing for its outputs."""
    inputs = _graph_tensors((args, kwargs))
    graphs = {t.graph for t in inputs}
    graph = graphs.pop() if len(graphs) == 1 else get_default_graph()
    if graphs or (eager.LOCAL.graphs and inputs and graph is not get_default_graph()):
        raise ValueError(f"{op.name}: its graph tensors belong to another graph than the "
                         "default one; ops may only combine tensors of one graph")
    structure = _infer(op.fn, args, kwargs, inputs)  # before adding: errors leave no node
    node = graph.add_node(op.name.rsplit(".", 1)[-1], op.fn, args, kwargs)
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
    are unknown. If that fails too, nothing is known until the feeds arrive.
    """

    def shapes(size: int) -> Any:
        specs = [jax.ShapeDtypeStruct(_concrete(t.shape, size), t.dtype or jnp.float32)
                 for t in inputs]

        def evaluate(*values: Any) -> Any:
            full_args, full_kwargs = _substitute((args, kwargs), dict(zip(inputs, values)))
            return fn(*full_args, **full_kwargs)

        return jax.eval_shape(evaluate, *specs)

    if all(t.shape is not None and None not in t.shape and t.dtype is not None
           for t in inputs):
        return shapes(0)  # shape errors surface here, when the op is written
    try:
        a, b = shapes(2), shapes(3)
    except Exception:  # noqa: BLE001 - any failure: sizes matter, they come with the feeds
        return None
    return jax.tree_util.tree_map(_merge, a, b)


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

    def __init__(self, graph: Graph | None = None, pipeline: str = "default"):
        self.graph = graph or get_default_graph()
        self.pipeline = pipeline
        self._compiled: dict[tuple, Any] = {}

    def __enter__(self) -> Session:
        _sessions.stack = [*getattr(_sessions, "stack", []), self]
        return self

    def __exit__(self, *exc: Any) -> None:
        _sessions.stack = [s for s in _sessions.stack if s is not self]
        self.close()

    def close(self) -> None:
        """Drop the compiled programs."""
        self._compiled.clear()

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
        leaves, tree = jax.tree_util.tree_flatten(fetches)
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

    def _resolve(self, feed_dict: dict) -> dict[GraphTensor, Any]:
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
    array = value._value if type(value) is Tensor else value
    if not hasattr(array, "dtype") or not hasattr(array, "shape"):
        array = np.asarray(array)
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
            args, kwargs = _substitute((node.args, node.kwargs), env)
            outs = jax.tree_util.tree_leaves(node.fn(*args, **kwargs))
            for tensor in node.outputs:
                env.setdefault(tensor, outs[tensor.index])
        return [env[t] for t in targets]

    return evaluate
