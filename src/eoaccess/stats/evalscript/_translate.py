"""A numpy fast path for simple evalscripts: evaluatePixel translated from a JavaScript subset.

Most statistics scripts are arithmetic over sample bands with a few ``if``\\ s (the NDWI script of
seed 004 is). Such a body is parsed here — never executed — and turned into a tree of numpy
operations that computes every pixel at once, with JavaScript's semantics: numbers are doubles,
``true`` is 1 in arithmetic, ``%`` keeps the dividend's sign, ``===`` between a number and a
boolean is false, ``a && b`` yields ``a`` or ``b``, ``if`` assignments become ``where``.

Accepted: ``var``/``let``/``const`` declarations, assignments (``=``, ``+=``…), ``if``/``else``,
one final ``return {id: [exprs], …}``, expressions over numbers, booleans, ``sample.band``,
``Math.*`` functions and constants. Anything else — helper functions, loops, strings, objects,
early returns, unknown names — makes :func:`translate` return None and the script runs in V8.
The caller also checks the translation against V8 on probe pixels before trusting it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from eoaccess.stats.evalscript._setup import Evalscript

Type = Literal["number", "boolean"]


class Unsupported(Exception):
    """The script uses something outside the translated subset (reason in the message)."""


# --- tokens -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\f\v\u00a0\ufeff]+)
  | (?P<newline>\n|\u2028|\u2029)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*.*?\*/)
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<string>"[^"\\\n]*"|'[^'\\\n]*')
  | (?P<op>===|!==|\*\*=|\*\*|==|!=|<=|>=|&&|\|\||\?\?|\+=|-=|\*=|/=|%=|\+\+|--|=>
        |[-+*/%<>!=?:;,.(){}\[\]&|^~])
    """,
    re.DOTALL | re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    """``number``, ``name``, ``string``, ``op`` or ``end``."""
    text: str
    newline_before: bool


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    position, newline = 0, False
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise Unsupported(f"unexpected character {source[position]!r}")
        kind = match.lastgroup or ""
        text = match.group()
        position = match.end()
        if kind in ("space", "line_comment"):
            continue
        if kind in ("newline", "block_comment"):
            newline = newline or kind == "newline" or "\n" in text
            continue
        if kind == "number" and len(text) > 1 and text[0] == "0" and text[1].isdigit():
            raise Unsupported("legacy octal number literal")
        tokens.append(Token(kind, text, newline))
        newline = False
    tokens.append(Token("end", "", True))
    return tokens


# --- executable nodes (picklable: plain frozen dataclasses) -------------------------------------


def _number(value: Any) -> Any:
    """JavaScript ToNumber of a number or boolean value (booleans become 0.0/1.0)."""
    if isinstance(value, np.ndarray):
        return value.astype(np.float64) if value.dtype == np.bool_ else value
    if isinstance(value, bool | np.bool_):
        return np.float64(1.0 if value else 0.0)
    return value


def _truthy(value: Any) -> Any:
    """JavaScript truthiness of a number: neither 0 nor NaN."""
    return np.logical_and(value != 0, ~np.isnan(value))


def _js_pow(base: Any, exponent: Any) -> Any:
    # JavaScript differs from C pow: 1 ** NaN and (±1) ** ±Infinity are NaN.
    nan = np.isnan(exponent) | ((np.abs(base) == 1) & np.isinf(exponent))
    return np.where(nan, np.nan, np.power(base, exponent))


def _js_round(value: Any) -> Any:
    # Math.round rounds halves up (towards +Infinity), unlike numpy's half-to-even.
    floor = np.floor(value)
    return np.where(value - floor >= 0.5, floor + 1.0, floor)


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "%": np.fmod,
    "**": _js_pow,
}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "===": np.equal,
    "!=": np.not_equal,
    "!==": np.not_equal,
}
# Math functions: name -> (numpy function, number of arguments; None for any number >= 1).
_MATH: dict[str, tuple[Callable[..., Any], int | None]] = {
    "abs": (np.abs, 1),
    "sqrt": (np.sqrt, 1),
    "cbrt": (np.cbrt, 1),
    "exp": (np.exp, 1),
    "expm1": (np.expm1, 1),
    "log": (np.log, 1),
    "log10": (np.log10, 1),
    "log2": (np.log2, 1),
    "log1p": (np.log1p, 1),
    "floor": (np.floor, 1),
    "ceil": (np.ceil, 1),
    "trunc": (np.trunc, 1),
    "sign": (np.sign, 1),
    "round": (_js_round, 1),
    "sin": (np.sin, 1),
    "cos": (np.cos, 1),
    "tan": (np.tan, 1),
    "asin": (np.arcsin, 1),
    "acos": (np.arccos, 1),
    "atan": (np.arctan, 1),
    "sinh": (np.sinh, 1),
    "cosh": (np.cosh, 1),
    "tanh": (np.tanh, 1),
    "atan2": (np.arctan2, 2),
    "pow": (_js_pow, 2),
    "min": (lambda *a: np.minimum.reduce(np.broadcast_arrays(*a)), None),
    "max": (lambda *a: np.maximum.reduce(np.broadcast_arrays(*a)), None),
}
_MATH_CONSTANTS = {
    "PI": np.pi,
    "E": np.e,
    "LN2": np.log(2.0),
    "LN10": np.log(10.0),
    "LOG2E": 1 / np.log(2.0),
    "LOG10E": 1 / np.log(10.0),
    "SQRT2": np.sqrt(2.0),
    "SQRT1_2": np.sqrt(0.5),
}

Env = dict[str, Any]


@dataclass(frozen=True)
class Const:
    value: Any

    def evaluate(self, env: Env, bands: Mapping[str, Any]) -> Any:
        return self.value


@dataclass(frozen=True)
class Load:
    name: str

    def evaluate(self, env: Env, bands: Mapping[str, Any]) -> Any:
        return env[self.name]


@dataclass(frozen=True)
class Band:
    name: str

    def evaluate(self, env: Env, bands: Mapping[str, Any]) -> Any:
        return bands[self.name]


@dataclass(frozen=True)
class ToNumber:
    operand: Any

    def evaluate(self, env: Env, bands: Mapping[str, Any]) -> Any:
        return _number(self.operand.evaluate(env, bands))


@dataclass(frozen=True)
class Truthy:
    operand: Any

    def evaluate(self, env: Env, bands: Mapping[str, Any]) -> Any:
        return _truthy(self.operand.evaluate(env, bands))


@dataclass(frozen=True)
class Not:
    operand: Any

    def evaluate(self, env: Env, bands: Mapping[str, Any]) -> Any:
        return np.logical_not(self.operand.evaluate(env, bands))


@dataclass(frozen=True)
class Negate:
    operand: Any

    def evaluate(self, env: Env, bands: Mapping[str, Any]) -> Any:
        return np.negative(self.operand.evaluate(env, bands))


@dataclass(frozen=True)
class Binary:
    op: str
    left: Any
    right: Any

    def evaluate(self, env: Env, bands: Mapping[str, Any]) -> Any:
        function = _ARITHMETIC.get(self.op) or _COMPARE[self.op]
        return function(self.left.evaluate(env, bands), self.right.evaluate(env, bands))


@dataclass(frozen=True)
class BoolOp:
    op: str
    """``&&`` or ``||`` between booleans."""
    left: Any
    right: Any

    def evaluate(self, env: Env, bands: Mapping[str, Any]) -> Any:
        combine = np.logical_and if self.op == "&&" else np.logical_or
        return combine(self.left.evaluate(env, bands), self.right.evaluate(env, bands))


@dataclass(frozen=True)
class Select:
    condition: Any
    """A boolean node."""
    then: Any
    other: Any

    def evaluate(self, env: Env, bands: Mapping[str, Any]) -> Any:
        return np.where(
            self.condition.evaluate(env, bands),
            self.then.evaluate(env, bands),
            self.other.evaluate(env, bands),
        )


@dataclass(frozen=True)
class MathCall:
    name: str
    args: tuple[Any, ...]

    def evaluate(self, env: Env, bands: Mapping[str, Any]) -> Any:
        function = _MATH[self.name][0]
        return function(*(a.evaluate(env, bands) for a in self.args))


@dataclass(frozen=True)
class Assign:
    name: str
    value: Any

    def execute(self, env: Env, bands: Mapping[str, Any]) -> None:
        env[self.name] = self.value.evaluate(env, bands)


@dataclass(frozen=True)
class If:
    condition: Any
    then: tuple[Any, ...]
    other: tuple[Any, ...]
    merged: tuple[str, ...]
    """Outer variables either branch assigns: merged pixel by pixel after the branches."""

    def execute(self, env: Env, bands: Mapping[str, Any]) -> None:
        test = self.condition.evaluate(env, bands)
        then_env, other_env = dict(env), dict(env)
        for statement in self.then:
            statement.execute(then_env, bands)
        for statement in self.other:
            statement.execute(other_env, bands)
        for name in self.merged:
            env[name] = np.where(test, then_env[name], other_env[name])


@dataclass(frozen=True)
class NumpyEvaluatePixel:
    """A translated evaluatePixel: statements, then the value of each output band."""

    statements: tuple[Any, ...]
    outputs: tuple[tuple[str, tuple[Any, ...]], ...]
    """(output id, one number node per band), ``dataMask`` included."""

    def run(self, samples: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
        """Every output as ``(bands, n)`` float64 arrays, like the V8 runner."""
        env: Env = {}
        # JavaScript computes in doubles: integer bands must not wrap around in numpy.
        bands = {k: np.asarray(v, dtype=np.float64) for k, v in samples.items()}
        with np.errstate(all="ignore"):
            for statement in self.statements:
                statement.execute(env, bands)
            result = {}
            for output_id, nodes in self.outputs:
                values = np.empty((len(nodes), n), dtype=np.float64)
                for k, node in enumerate(nodes):
                    values[k] = node.evaluate(env, bands)
                result[output_id] = values
        return result


# --- parsing and checking -----------------------------------------------------------------------


@dataclass
class _Variable:
    type: Type
    constant: bool


@dataclass
class _Scope:
    names: dict[str, _Variable] = field(default_factory=dict)
    parent: _Scope | None = None
    assigned: set[str] = field(default_factory=set)
    """Names of enclosing scopes this scope (or a nested one) assigns."""

    def find(self, name: str) -> _Variable | None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def owner(self, name: str) -> _Scope | None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope
            scope = scope.parent
        return None


_ASSIGN_OPS = {"=": None, "+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "**=": "**"}


class _Translator:
    """Recursive-descent parser of the subset that builds checked numpy nodes directly."""

    def __init__(self, tokens: list[Token], script: Evalscript) -> None:
        self.tokens = tokens
        self.i = 0
        self.script = script
        self.sample = ""

    # token helpers
    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.i += 1
        return token

    def at(self, text: str) -> bool:
        token = self.peek()
        return token.kind in ("op", "name") and token.text == text

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise Unsupported(f"expected {text!r}, found {self.peek().text or 'end of script'!r}")

    def name(self) -> str:
        token = self.advance()
        if token.kind != "name":
            raise Unsupported(f"expected a name, found {token.text!r}")
        return token.text

    # script structure
    def script_body(self) -> tuple[tuple[Any, ...], tuple[tuple[str, tuple[Any, ...]], ...]]:
        found: dict[str, Any] = {}
        while self.peek().kind != "end":
            if self.accept(";"):
                continue
            if not self.accept("function"):
                raise Unsupported("top-level code other than function declarations")
            name = self.name()
            if name in found:
                raise Unsupported(f"function {name} declared twice")
            if name == "evaluatePixel":
                found[name] = self.evaluate_pixel()
            elif name == "setup":
                self.skip_function()  # setup() always runs in V8
                found[name] = None
            else:
                raise Unsupported(f"helper function {name}")
        if "evaluatePixel" not in found:
            raise Unsupported("no evaluatePixel function")
        return found["evaluatePixel"]  # type: ignore[no-any-return]

    def skip_function(self) -> None:
        self.expect("(")
        while not self.accept(")"):
            if self.advance().kind == "end":
                raise Unsupported("unterminated parameter list")
        self.expect("{")
        depth = 1
        while depth:
            token = self.advance()
            if token.kind == "end":
                raise Unsupported("unterminated function body")
            if token.kind == "op" and token.text == "{":
                depth += 1
            elif token.kind == "op" and token.text == "}":
                depth -= 1

    def evaluate_pixel(self) -> tuple[tuple[Any, ...], tuple[tuple[str, tuple[Any, ...]], ...]]:
        self.expect("(")
        if self.at(")"):
            raise Unsupported("evaluatePixel without a sample parameter")
        self.sample = self.name()
        while self.accept(","):
            self.name()  # further parameters are fine while the body does not use them
        self.expect(")")
        self.expect("{")
        scope = _Scope()
        statements: list[Any] = []
        outputs = None
        while not self.accept("}"):
            if outputs is not None:
                raise Unsupported("statements after return")
            if self.at("return"):
                outputs = self.return_statement(scope)
                continue
            statements.extend(self.statement(scope))
        if outputs is None:
            raise Unsupported("evaluatePixel does not end with a return")
        return tuple(statements), outputs

    # statements
    def end_statement(self) -> None:
        if self.accept(";") or self.at("}") or self.peek().newline_before:
            return
        raise Unsupported(f"unexpected {self.peek().text!r}")

    def statement(self, scope: _Scope) -> list[Any]:
        token = self.peek()
        if self.accept(";"):
            return []
        if token.text in ("var", "let", "const") and token.kind == "name":
            return self.declaration(scope)
        if self.accept("if"):
            return [self.if_statement(scope)]
        if self.accept("{"):
            return self.block_until_brace(scope)
        if token.kind == "name" and self.peek(1).kind == "op" and self.peek(1).text in _ASSIGN_OPS:
            return [self.assignment(scope)]
        if token.text == "return":
            raise Unsupported("return inside a block")
        raise Unsupported(f"statement starting with {token.text!r}")

    def block_until_brace(self, scope: _Scope) -> list[Any]:
        inner = _Scope(parent=scope)
        statements: list[Any] = []
        while not self.accept("}"):
            if self.peek().kind == "end":
                raise Unsupported("unterminated block")
            statements.extend(self.statement(inner))
        scope.assigned |= {n for n in inner.assigned if scope.owner(n) is not None}
        return statements

    def declaration(self, scope: _Scope) -> list[Any]:
        constant = self.advance().text == "const"
        statements = []
        while True:
            name = self.name()
            # Shadowing would need one environment per block; such scripts stay in V8.
            if name in (self.sample, "Math") or scope.find(name) is not None:
                raise Unsupported(f"redeclaration or shadowing of {name}")
            self.expect("=")
            node, kind = self.expression(scope)
            scope.names[name] = _Variable(kind, constant)
            statements.append(Assign(name, node))
            if not self.accept(","):
                break
        self.end_statement()
        return statements

    def assignment(self, scope: _Scope) -> Any:
        name = self.name()
        op = _ASSIGN_OPS[self.advance().text]
        variable = scope.find(name)
        if variable is None or variable.constant:
            raise Unsupported(f"assignment to {'constant' if variable else 'undeclared'} {name}")
        node, kind = self.expression(scope)
        if op is not None:
            node, kind = self.binary(op, (Load(name), variable.type), (node, kind))
        if kind != variable.type:
            raise Unsupported(f"{name} changes type")
        self.end_statement()
        scope.assigned.add(name)
        return Assign(name, node)

    def if_statement(self, scope: _Scope) -> Any:
        self.expect("(")
        condition = self.condition(scope)
        self.expect(")")
        then_scope = _Scope(parent=scope)
        then = self.branch(then_scope)
        other_scope = _Scope(parent=scope)
        other = self.branch(other_scope) if self.accept("else") else []
        merged = {
            n for n in then_scope.assigned | other_scope.assigned if scope.find(n) is not None
        }
        scope.assigned |= merged
        return If(condition, tuple(then), tuple(other), tuple(sorted(merged)))

    def branch(self, scope: _Scope) -> list[Any]:
        if self.accept("{"):
            statements: list[Any] = []
            while not self.accept("}"):
                if self.peek().kind == "end":
                    raise Unsupported("unterminated block")
                statements.extend(self.statement(scope))
            return statements
        if self.at("var") or self.at("let") or self.at("const"):
            raise Unsupported("declaration as an if body")
        return self.statement(scope)

    def return_statement(self, scope: _Scope) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        self.expect("return")
        if self.peek().newline_before:
            raise Unsupported("return followed by a line break returns undefined")
        if not self.accept("{"):
            raise Unsupported("return of something other than an object of outputs")
        values: dict[str, tuple[Any, ...]] = {}
        while not self.accept("}"):
            token = self.advance()
            if token.kind == "string":
                key = token.text[1:-1]
            elif token.kind in ("name", "number"):
                key = token.text
            else:
                raise Unsupported(f"output key {token.text!r}")
            self.expect(":")
            self.expect("[")
            nodes = []
            while not self.accept("]"):
                node, kind = self.expression(scope)
                nodes.append(node if kind == "number" else ToNumber(node))
                if not self.accept(","):
                    self.expect("]")
                    break
            if key in values:
                raise Unsupported(f"output {key} returned twice")
            values[key] = tuple(nodes)
            if not self.accept(","):
                self.expect("}")
                break
        self.end_statement()
        declared = {o.id: len(o.bands) for o in self.script.all_outputs}
        if {k: len(v) for k, v in values.items()} != declared:
            raise Unsupported("returned outputs differ from setup() (V8 reports the error)")
        return tuple((o.id, values[o.id]) for o in self.script.all_outputs)

    # expressions: each returns (node, type)
    def condition(self, scope: _Scope) -> Any:
        node, kind = self.expression(scope)
        return node if kind == "boolean" else Truthy(node)

    def expression(self, scope: _Scope) -> tuple[Any, Type]:
        test, test_kind = self.logical_or(scope)
        if not self.accept("?"):
            return test, test_kind
        then, then_kind = self.expression(scope)
        self.expect(":")
        other, other_kind = self.expression(scope)
        if then_kind != other_kind:
            raise Unsupported("conditional expression of mixed types")
        condition = test if test_kind == "boolean" else Truthy(test)
        return Select(condition, then, other), then_kind

    def logical_or(self, scope: _Scope) -> tuple[Any, Type]:
        left = self.logical_and(scope)
        while self.accept("||"):
            left = self.logical("||", left, self.logical_and(scope))
        return left

    def logical_and(self, scope: _Scope) -> tuple[Any, Type]:
        left = self.equality(scope)
        while self.accept("&&"):
            left = self.logical("&&", left, self.equality(scope))
        return left

    def logical(self, op: str, left: tuple[Any, Type], right: tuple[Any, Type]) -> tuple[Any, Type]:
        if left[1] != right[1]:
            raise Unsupported(f"{op} between a number and a boolean")
        if left[1] == "boolean":
            return BoolOp(op, left[0], right[0]), "boolean"
        truthy = Truthy(left[0])
        # a && b is b when a is truthy, else a; a || b is a when a is truthy, else b.
        if op == "&&":
            return Select(truthy, right[0], left[0]), "number"
        return Select(truthy, left[0], right[0]), "number"

    def equality(self, scope: _Scope) -> tuple[Any, Type]:
        left = self.relational(scope)
        while self.peek().kind == "op" and self.peek().text in ("==", "!=", "===", "!=="):
            op = self.advance().text
            left = self.binary(op, left, self.relational(scope))
        return left

    def relational(self, scope: _Scope) -> tuple[Any, Type]:
        left = self.additive(scope)
        while self.peek().kind == "op" and self.peek().text in ("<", "<=", ">", ">="):
            op = self.advance().text
            left = self.binary(op, left, self.additive(scope))
        return left

    def additive(self, scope: _Scope) -> tuple[Any, Type]:
        left = self.multiplicative(scope)
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            op = self.advance().text
            left = self.binary(op, left, self.multiplicative(scope))
        return left

    def multiplicative(self, scope: _Scope) -> tuple[Any, Type]:
        left = self.exponent(scope)
        while self.peek().kind == "op" and self.peek().text in ("*", "/", "%"):
            op = self.advance().text
            left = self.binary(op, left, self.exponent(scope))
        return left

    def exponent(self, scope: _Scope) -> tuple[Any, Type]:
        if self.peek().kind == "op" and self.peek().text in ("-", "+", "!"):
            operand = self.unary(scope)
            if self.at("**"):
                raise Unsupported("unary operator before ** (a JavaScript syntax error)")
            return operand
        base = self.primary(scope)
        if self.accept("**"):
            return self.binary("**", base, self.exponent(scope))
        return base

    def unary(self, scope: _Scope) -> tuple[Any, Type]:
        op = self.peek().text
        if self.peek().kind == "op" and op in ("-", "+", "!"):
            self.advance()
            node, kind = self.unary(scope)
            if op == "!":
                return Not(node if kind == "boolean" else Truthy(node)), "boolean"
            number = node if kind == "number" else ToNumber(node)
            return (Negate(number) if op == "-" else number), "number"
        return self.primary(scope)

    def binary(self, op: str, left: tuple[Any, Type], right: tuple[Any, Type]) -> tuple[Any, Type]:
        (a, a_kind), (b, b_kind) = left, right
        if op in _ARITHMETIC:
            a = a if a_kind == "number" else ToNumber(a)
            b = b if b_kind == "number" else ToNumber(b)
            return Binary(op, a, b), "number"
        if op in ("===", "!==") and a_kind != b_kind:
            return Const(np.bool_(op == "!==")), "boolean"  # different types are never identical
        if a_kind != b_kind or op in ("<", "<=", ">", ">="):
            a = a if a_kind == "number" else ToNumber(a)
            b = b if b_kind == "number" else ToNumber(b)
        return Binary(op, a, b), "boolean"

    def primary(self, scope: _Scope) -> tuple[Any, Type]:
        token = self.advance()
        if token.kind == "number":
            return Const(np.float64(float(int(token.text, 16)) if token.text[:2].lower() == "0x"
                                    else float(token.text))), "number"  # fmt: skip
        if token.kind == "op" and token.text == "(":
            node = self.expression(scope)
            self.expect(")")
            return node
        if token.kind != "name":
            raise Unsupported(f"unexpected {token.text or 'end of script'!r}")
        if token.text in ("true", "false"):
            return Const(np.bool_(token.text == "true")), "boolean"
        if token.text in ("NaN", "Infinity") and scope.find(token.text) is None:
            return Const(np.float64(token.text.replace("Infinity", "inf"))), "number"
        if token.text == self.sample:
            return self.band()
        if token.text == "Math" and scope.find("Math") is None:
            return self.math(scope)
        variable = scope.find(token.text)
        if variable is None:
            raise Unsupported(f"unknown name {token.text}")
        if self.at("(") or self.at(".") or self.at("["):
            raise Unsupported(f"{token.text} used as an object or function")
        return Load(token.text), variable.type

    def band(self) -> tuple[Any, Type]:
        if self.accept("."):
            name = self.name()
        elif self.accept("["):
            token = self.advance()
            if token.kind != "string":
                raise Unsupported("computed band name")
            name = token.text[1:-1]
            self.expect("]")
        else:
            raise Unsupported(f"{self.sample} used without a band")
        if name not in self.script.inputs:
            raise Unsupported(f"band {name} is not an input of setup()")
        if self.at("(") or self.at(".") or self.at("["):
            raise Unsupported(f"band {name} used as an object")
        return Band(name), "number"

    def math(self, scope: _Scope) -> tuple[Any, Type]:
        self.expect(".")
        name = self.name()
        if name in _MATH_CONSTANTS and not self.at("("):
            return Const(np.float64(_MATH_CONSTANTS[name])), "number"
        if name not in _MATH:
            raise Unsupported(f"Math.{name}")
        self.expect("(")
        args = []
        while not self.accept(")"):
            node, kind = self.expression(scope)
            args.append(node if kind == "number" else ToNumber(node))
            if not self.accept(","):
                self.expect(")")
                break
        arity = _MATH[name][1]
        if (arity is not None and len(args) != arity) or not args:
            raise Unsupported(f"Math.{name} with {len(args)} arguments")
        return MathCall(name, tuple(args)), "number"


@dataclass(frozen=True)
class Translation:
    """The outcome of :func:`translate`."""

    program: NumpyEvaluatePixel | None
    """The numpy evaluatePixel, or None when the script is outside the subset."""
    reason: str
    """Why not (empty when translated)."""


def translate(script: Evalscript) -> Translation:
    """Translate the script's evaluatePixel to numpy, or say why it stays in V8."""
    try:
        translator = _Translator(tokenize(script.source), script)
        statements, outputs = translator.script_body()
    except Unsupported as exc:
        return Translation(None, str(exc))
    except RecursionError:
        return Translation(None, "expression nested too deeply")
    return Translation(NumpyEvaluatePixel(statements, outputs), "")
