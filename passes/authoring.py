"""Writing a pass without the boilerplate, and the dialect contract every pass may declare.

The common case is a set of rewrite patterns applied until nothing changes:

    SiluPass = pattern_pass("silu-raise", [MulLogistic()], requires=("lax",), produces=("silu",))

and a pass that is a plain function of the module, with options from its keyword arguments:

    @function_pass("count-ops", requires=("lax",))
    def count_ops(module: ModuleOp, *, limit: int = 10) -> None: ...

Both return real `ModulePass` subclasses (frozen dataclasses whose fields are the options, so
`-p "count-ops{limit=4}"` works); a hand-written `ModulePass` subclass works everywhere too.

The contract (class attributes, each a tuple of dialect names, all optional):
- `requires`: dialects whose ops the pass works on. A pipeline is rejected before it runs if
  they cannot be present there: removed by an earlier pass, or absent from the input and only
  produced by a later pass (a pass on `fused` regions placed before `fuse`).
- `produces`: dialects whose ops the pass may create.
- `removes`: dialects of which no op is left after the pass (a lowering's source dialect).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriteWalker,
    RewritePattern,
)

__all__ = ["Contract", "contract", "function_pass", "pattern_pass"]

Patterns = Sequence[RewritePattern] | Callable[[Any], Sequence[RewritePattern]]


@dataclasses.dataclass(frozen=True)
class Contract:
    """What a pass declares about dialects (see the module docstring)."""

    requires: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    removes: tuple[str, ...] = ()


def contract(pass_cls: type[ModulePass] | ModulePass) -> Contract:
    """The dialect contract `pass_cls` declares (empty for passes that declare nothing)."""
    return Contract(*(tuple(getattr(pass_cls, k, ())) for k in ("requires", "produces",
                                                                   "removes")))


def _class_name(name: str) -> str:
    words = name.replace("_", "-").split("-")
    return "".join(w.capitalize() for w in words) + ("" if words[-1] == "pass" else "Pass")


def _make(name: str, apply: Callable[[Any, Context, ModuleOp], None],
          options: Sequence[tuple[str, Any, Any]], doc: str, module: str,
          requires: Sequence[str], produces: Sequence[str], removes: Sequence[str],
          **extra: Any) -> type[ModulePass]:
    fields = [(opt, typ, dataclasses.field(default=default)) for opt, typ, default in options]
    namespace = {"name": name, "apply": apply, "__doc__": doc, "__module__": module,
                 "requires": tuple(requires), "produces": tuple(produces),
                 "removes": tuple(removes), "__annotations__": {"name": ClassVar[str]}, **extra}
    return dataclasses.make_dataclass(_class_name(name), fields, bases=(ModulePass,),
                                      namespace=namespace, frozen=True)


def _caller_module() -> str:
    frame = inspect.currentframe()
    caller = frame.f_back.f_back if frame and frame.f_back else None
    return caller.f_globals.get("__name__", __name__) if caller else __name__


def pattern_pass(name: str, patterns: Patterns, *, options: dict[str, Any] | None = None,
                 requires: Sequence[str] = (), produces: Sequence[str] = (),
                 removes: Sequence[str] = (), doc: str | None = None) -> type[ModulePass]:
    """A `ModulePass` applying `patterns` greedily until none matches (xDSL's walker).

    `patterns` is a list, or a function of the pass instance returning one (to use options:
    `lambda p: [Tile(p.size)]` with `options={"size": 4}`). Option types come from defaults.
    """
    opts = [(k, type(v), v) for k, v in (options or {}).items()]

    def apply(self: Any, ctx: Context, op: ModuleOp) -> None:
        chosen = patterns(self) if callable(patterns) else patterns
        PatternRewriteWalker(GreedyRewritePatternApplier(list(chosen)),
                             apply_recursively=True).rewrite_module(op)

    return _make(name, apply, opts, doc or f"`{name}`: rewrite patterns applied greedily.",
                 _caller_module(), requires, produces, removes)


def function_pass(name: str, *, requires: Sequence[str] = (), produces: Sequence[str] = (),
                  removes: Sequence[str] = ()
                  ) -> Callable[[Callable[..., None]], type[ModulePass]]:
    """Decorator: `fn(module, *, opt: T = default)` becomes a `ModulePass` with those options."""

    def wrap(fn: Callable[..., None]) -> type[ModulePass]:
        opts = []
        hints = inspect.get_annotations(fn, eval_str=True)
        for p in inspect.signature(fn).parameters.values():
            if p.kind is p.KEYWORD_ONLY:
                if p.default is p.empty:
                    raise TypeError(f"option '{p.name}' of pass '{name}' needs a default")
                opts.append((p.name, hints.get(p.name, type(p.default)), p.default))

        def apply(self: Any, ctx: Context, op: ModuleOp) -> None:
            fn(op, **{k: getattr(self, k) for k, _, _ in opts})

        # `function`: the algorithm stays callable without the pass
        return _make(name, apply, opts, fn.__doc__ or f"`{name}`", fn.__module__, requires,
                     produces, removes, function=staticmethod(fn))

    return wrap
