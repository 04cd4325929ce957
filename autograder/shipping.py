"""Send a test cell's probe -- a function, its arguments -- from the grader to the learner's process.

The trusted grader runs the test cells; a check on the learner's code asks the
learner's process to run a call such as ``lambda: list(chunked(range(7), 3))``.
:func:`encode` turns that call into plain data: the functions and classes the test
cell defined travel as code objects (``marshal``) with the globals they use, data
travels as pickled builtins, modules and library functions travel by name, and the
learner's own names (:class:`LearnerName`) are looked up in the learner's namespace
on arrival. :func:`decode` rebuilds them in the measured child, before the
measurement starts, with nothing but the interpreter's own constructors: no code
the learner wrote runs while the probe and its (hidden) inputs are being rebuilt.

Only what a test cell needs is supported; anything else (a generator, an open
file, a subclass of the learner's class defined outside the probe) is refused with
a message naming it, which is the instructor's to fix.
"""

from __future__ import annotations

import builtins as _builtins
import marshal as _marshal
import pickle as _pickle
import types as _types
from _io import BytesIO as _BytesIO
from marshal import loads as _marshal_loads
from pickle import Unpickler as _Unpickler
from pickle import loads as _pickle_loads
from types import CellType as _CellType
from types import CodeType as _CodeType
from types import FunctionType as _FunctionType
from types import ModuleType as _ModuleType

from collections import namedtuple as _namedtuple

from . import transfer

_MODULES = __import__("sys").modules  # the interpreter's own dict, bound once
# A copy of the builtins taken when this module loads: in the learner's process that is the private copy
# (autograder.seal), before the learner's first cell, so a probe's id(), len() or sum() stay the real ones
# whatever the learner rebinds in the builtins module (a probe that counts flyweights with id() once counted
# what a learner's `builtins.id = ...` chose)
_BUILTINS = dict(_builtins.__dict__)
_object_new = object.__new__
_object_dict = object.__getattribute__
_list_extend = list.extend
_dict_update = dict.update
_set_update = set.update


class ShippingError(TypeError):
    """A test cell asked to send something the learner's process cannot rebuild: the instructor's bug."""


class LearnerName:
    """A name the learner's notebook defines, as the grader sees it: looked up in the learner's process.

    The grader never holds the learner's objects; calling one or reading its
    attributes in a test cell is a mistake in the test, said so.
    """

    __slots__ = ("name", "kind")

    def __init__(self, name: str, kind: str = "object"):
        self.name = name
        self.kind = kind

    def __repr__(self) -> str:
        return f"<the learner's {self.name}>"

    def __call__(self, *args, **kwargs):
        raise ShippingError(f"the test cell called the learner's {self.name} directly; only checks may run the "
                            "learner's code (pass it, or a function using it, to a check)")

    def __getattr__(self, attribute):
        if attribute in ("__name__", "__qualname__"):
            return object.__getattribute__(self, "name")
        raise ShippingError(f"the test cell read {self.name}.{attribute} in the grader; only checks may use the "
                            "learner's objects (do it inside a function passed to a check)")

    def __bool__(self) -> bool:
        return True


# --------------------------------------------------------------------------- encode (grader side)


def encode(value) -> tuple:
    """A tree of plain tuples that :func:`decode` turns back into ``value`` in the learner's process."""
    return _Encoder().encode(value)


class _Encoder:
    def __init__(self):
        self.memo: dict = {}  # id -> index in self.objects, so shared objects stay shared
        self.keep: list = []  # keep encoded objects alive while encoding (ids must not be reused)

    def encode(self, value):
        kind = type(value)
        if kind is LearnerName:
            return ("learner", value.name)
        if transfer.plain_type_problem(value) is None and kind not in (list, dict, set, bytearray):
            return ("plain", _pickle.dumps(value, protocol=_pickle.HIGHEST_PROTOCOL))
        key = id(value)
        if key in self.memo:
            return ("ref", self.memo[key])
        if isinstance(value, _ModuleType):
            return ("module", value.__name__)
        if _importable(value):  # a library's function or class: found again by name
            module = getattr(value, "__module__", None) or value.__self__.__name__
            return ("global", module, value.__qualname__)
        index = len(self.memo)
        self.memo[key] = index
        self.keep.append(value)
        if kind in (list, dict, set, bytearray) and transfer.plain_type_problem(value) is None:
            # mutable: its identity matters (a probe may fill it), so it is shared by reference
            return ("new", index, "plain", _pickle.dumps(value, protocol=_pickle.HIGHEST_PROTOCOL))
        if kind is list:
            return ("new", index, "list", [self.encode(v) for v in value])
        if kind is tuple:
            return ("new", index, "tuple", [self.encode(v) for v in value])
        if kind is dict:
            return ("new", index, "dict", [(self.encode(k), self.encode(v)) for k, v in value.items()])
        if kind in (set, frozenset):
            return ("new", index, kind.__name__, [self.encode(v) for v in value])
        if kind is _FunctionType:
            return ("new", index, "function", *self._function(value))
        if kind in (staticmethod, classmethod):
            return ("new", index, kind.__name__, self.encode(value.__func__))
        if kind is property:
            return ("new", index, "property", [self.encode(f) for f in (value.fget, value.fset, value.fdel)],
                    value.__doc__)
        if isinstance(value, type) and issubclass(value, tuple) and isinstance(getattr(value, "_fields", None), tuple):
            defaults = tuple(value._field_defaults[f] for f in value._fields if f in value._field_defaults)
            return ("new", index, "namedtuple", value.__name__, value._fields, self.encode(defaults))
        if isinstance(value, type):
            return ("new", index, "class", self._class(value))
        if not _importable(kind) and hasattr(value, "__dict__"):
            return ("new", index, "instance", self._instance(value))
        raise ShippingError(f"a test cell passed a {kind.__name__} to the learner's process, which cannot rebuild it; "
                            "build it inside the function the check runs instead")

    def _function(self, fn: _FunctionType) -> tuple:
        code = fn.__code__
        names = set()
        _names_used(code, names)
        known = {n: fn.__globals__[n] for n in sorted(names) if n in fn.__globals__ and not n.startswith("__")}
        closure = [("empty",) if _cell_empty(cell) else self.encode(cell.cell_contents) for cell in fn.__closure__ or ()]
        return (_marshal.dumps(code), fn.__name__, fn.__qualname__, id(fn.__globals__),
                [(n, self.encode(v)) for n, v in known.items()],
                self.encode(fn.__defaults__) if fn.__defaults__ else None,
                self.encode(fn.__kwdefaults__) if fn.__kwdefaults__ else None, closure,
                [(k, self.encode(v)) for k, v in vars(fn).items()])

    def _class(self, cls: type) -> tuple:
        for base in cls.__bases__:
            if type(base) is LearnerName:
                raise ShippingError(f"the test cell's class {cls.__name__} subclasses the learner's {base.name}; "
                                    "define it inside the function the check runs")
        skip = {"__dict__", "__weakref__"} | set(getattr(cls, "__slots__", ()) if not isinstance(
            getattr(cls, "__slots__", ()), str) else (cls.__slots__,))
        attributes = [(k, self.encode(v)) for k, v in vars(cls).items() if k not in skip]
        return (cls.__name__, cls.__qualname__, [self.encode(b) for b in cls.__bases__], attributes)

    def _instance(self, obj) -> tuple:
        cls = type(obj)
        contents = None
        if isinstance(obj, list):
            contents = ("list", [self.encode(v) for v in obj])
        elif isinstance(obj, dict):
            contents = ("dict", [(self.encode(k), self.encode(v)) for k, v in obj.items()])
        elif isinstance(obj, set):
            contents = ("set", [self.encode(v) for v in obj])
        return (self.encode(cls), [(k, self.encode(v)) for k, v in vars(obj).items()], contents)


def _importable(value) -> bool:
    """True when ``value`` is a library's function or class, found again by module and name."""
    if not isinstance(value, (type, _types.FunctionType, _types.BuiltinFunctionType, _types.BuiltinMethodType)):
        return False
    module = getattr(value, "__module__", None)
    if module is None and isinstance(getattr(value, "__self__", None), _ModuleType):
        module = value.__self__.__name__
    qualname = getattr(value, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<locals>" in qualname:
        return False
    found = _MODULES.get(module)
    if found is None or module in ("__main__", GRADER_MODULE):
        return False
    target = found
    for part in qualname.split("."):
        target = getattr(target, part, None)
    return target is value


GRADER_MODULE = "__grader_cells__"  # the __name__ of the namespace the grader runs test cells in


def _names_used(code: _CodeType, out: set) -> None:
    out.update(code.co_names)
    for const in code.co_consts:
        if isinstance(const, _CodeType):
            _names_used(const, out)


def _cell_empty(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return True
    return False


# --------------------------------------------------------------------------- decode (the measured child)


def decode(tree, learner_ns: dict):
    """Rebuild what :func:`encode` sent, resolving the learner's names in ``learner_ns``."""
    return _Decoder(learner_ns).decode(tree)


class _Decoder:
    def __init__(self, learner_ns: dict):
        self.ns = learner_ns
        self.objects: dict = {}
        self.globals_by_origin: dict = {}

    def decode(self, tree):
        tag = tree[0]
        if tag == "plain":
            return _pickle_loads(tree[1])
        if tag == "learner":
            name = tree[1]
            if name not in self.ns:
                raise NameError(f"name {name!r} is not defined")
            return self.ns[name]
        if tag == "ref":
            return self.objects[tree[1]]
        if tag == "module":
            return _loaded(tree[1])
        if tag == "global":
            return _find(tree[1], tree[2])
        if tag != "new":
            raise ValueError(f"unknown shipped value {tag!r}")
        index, kind = tree[1], tree[2]
        build = getattr(self, "_" + kind)
        return build(index, *tree[3:])

    def _keep(self, index, value):
        self.objects[index] = value
        return value

    def _plain(self, index, data):
        return self._keep(index, _pickle_loads(data))

    def _list(self, index, items):
        out = self._keep(index, [])
        _list_extend(out, [self.decode(v) for v in items])
        return out

    def _tuple(self, index, items):
        return self._keep(index, tuple(self.decode(v) for v in items))

    def _dict(self, index, items):
        out = self._keep(index, {})
        for k, v in items:
            out[self.decode(k)] = self.decode(v)
        return out

    def _set(self, index, items):
        out = self._keep(index, set())
        _set_update(out, [self.decode(v) for v in items])
        return out

    def _frozenset(self, index, items):
        return self._keep(index, frozenset(self.decode(v) for v in items))

    def _function(self, index, code, name, qualname, origin, globals_items, defaults, kwdefaults, closure, attributes):
        namespace = self.globals_by_origin.get(origin)
        if namespace is None:
            namespace = self.globals_by_origin[origin] = {"__builtins__": _BUILTINS, "__name__": GRADER_MODULE}
        cells = tuple(_CellType() if c[0] == "empty" else _CellType() for c in closure)
        fn = self._keep(index, _FunctionType(_marshal_loads(code), namespace, name, None, cells or None))
        fn.__qualname__ = qualname
        for cell, item in zip(cells, closure):
            if item[0] != "empty":
                cell.cell_contents = self.decode(item)
        for key, item in globals_items:
            if key not in namespace:
                namespace[key] = self.decode(item)
        if defaults is not None:
            fn.__defaults__ = self.decode(defaults)
        if kwdefaults is not None:
            fn.__kwdefaults__ = self.decode(kwdefaults)
        for key, item in attributes:
            setattr(fn, key, self.decode(item))
        return fn

    def _namedtuple(self, index, name, fields, defaults):
        return self._keep(index, _namedtuple(name, fields, defaults=self.decode(defaults) or None,
                                             module=GRADER_MODULE))

    def _staticmethod(self, index, fn):
        return self._keep(index, staticmethod(self.decode(fn)))

    def _classmethod(self, index, fn):
        return self._keep(index, classmethod(self.decode(fn)))

    def _property(self, index, accessors, doc):
        return self._keep(index, property(*(self.decode(a) for a in accessors), doc))

    def _class(self, index, spec):
        name, qualname, bases, attributes = spec
        namespace = {key: self.decode(item) for key, item in attributes}
        namespace["__qualname__"] = qualname
        return self._keep(index, type(name, tuple(self.decode(b) for b in bases), namespace))

    def _instance(self, index, spec):
        cls_tree, attributes, contents = spec
        cls = self.decode(cls_tree)
        base = list if issubclass(cls, list) else dict if issubclass(cls, dict) else set if issubclass(cls, set) \
            else object
        obj = self._keep(index, base.__new__(cls) if base is not object else _object_new(cls))
        if contents is not None:
            kind, items = contents
            if kind == "list":
                _list_extend(obj, [self.decode(v) for v in items])
            elif kind == "dict":
                for k, v in items:
                    dict.__setitem__(obj, self.decode(k), self.decode(v))
            else:
                _set_update(obj, [self.decode(v) for v in items])
        if attributes:
            _dict_update(_object_dict(obj, "__dict__"), {k: self.decode(v) for k, v in attributes})
        return obj


def _loaded(name: str):
    """A module already imported in this process (importing now could run the learner's import hooks)."""
    module = _MODULES.get(name)
    if type(module) is not _ModuleType:
        raise ShippingError(f"module {name} is not loaded in the learner's process; import it in the setup cell")
    return module


def _find(module_name: str, qualname: str):
    target = _loaded(module_name)
    for part in qualname.split("."):
        if type(target) is _ModuleType:
            namespace = _object_dict(target, "__dict__")
            if part not in namespace:
                raise ShippingError(f"{module_name}.{qualname} was not found in the learner's process")
            target = namespace[part]
        else:
            target = getattr(target, part)
    return target


def decode_call(data: bytes, learner_ns: dict):
    """(func, args, kwargs) from :func:`encode_call`'s bytes."""
    func, args, kwargs = _Unpickler(_BytesIO(data)).load()
    decoder = _Decoder(learner_ns)
    # functions and classes first, the (hidden) inputs last
    return decoder.decode(func), decoder.decode(args), decoder.decode(kwargs)


def encode_call(func, args: tuple, kwargs: dict) -> bytes:
    """The bytes the learner's process turns back into ``func``, ``args`` and ``kwargs``."""
    encoder = _Encoder()
    tree = (encoder.encode(func), encoder.encode(tuple(args)), encoder.encode(dict(kwargs)))
    return _pickle.dumps(tree, protocol=_pickle.HIGHEST_PROTOCOL)
