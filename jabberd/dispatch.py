# -*- test-case-name: tests.test_dispatch -*-
"""
One declared way for a stream or a handler to say which method handles
what it receives: first-level stream elements by qualified name (RFC 6120
section 4.1: a stream's children are dispatched by namespace and local
name), and any other key in a named table (a presence C{type}, RFC 6121
section 3; a payload namespace).

A method is marked with L{handles} (first-level elements) or L{handlesKey}
(a key in a table).  L{index} walks a class's MRO once, on first use, and
caches the tables on the class, so dispatching is one dictionary look-up
and a call::

    class Stream(HardenedXmlStream):
        @handles(NS_TLS, "starttls")
        def onStartTLS(self, element):
            ...

    handler = index(Stream).get((element.uri, element.name))
    if handler is not None:
        handler(stream, element)

Inheritance: a subclass inherits its bases' keys and adds its own; a key it
marks itself replaces the base's.  A key names the method by attribute name,
looked up on the class being indexed, so overriding a marked method (marked
again or not) keeps its key, and a subclass drops an inherited key by
setting that attribute to None.  Two methods of one class marked with the
same key are an error (L{DuplicateHandler}) when the class is first indexed.
"""

__all__ = ["ELEMENTS", "DuplicateHandler", "handles", "handlesKey", "index", "handlerFor"]

#: The table of first-level elements, keyed by (namespace, local name).
ELEMENTS = "elements"

_MARKS = "_dispatchKeys"
_CACHE = "_dispatchIndex"


class DuplicateHandler(TypeError):
    """Two methods of one class are marked with the same key of one table."""


def handlesKey(table, *keys):
    """Mark a method as handling each of C{keys} in the table named C{table}."""

    def mark(method):
        method.__dict__.setdefault(_MARKS, []).extend((table, key) for key in keys)
        return method

    return mark


def handles(uri, *names):
    """Mark a method as handling the first-level elements C{{uri}name} for each of C{names}."""
    return handlesKey(ELEMENTS, *((uri, name) for name in names))


def _declared(klass):
    """table -> key -> attribute name, for the methods C{klass} itself marks."""
    tables = {}
    for attr, value in vars(klass).items():
        for table, key in getattr(value, _MARKS, ()):
            names = tables.setdefault(table, {})
            other = names.setdefault(key, attr)
            if other != attr:
                raise DuplicateHandler("%s.%s and .%s both handle %r in %r"
                                       % (klass.__qualname__, other, attr, key, table))
    return tables


def _build(cls):
    names = {}
    for klass in reversed(cls.__mro__):
        for table, keys in _declared(klass).items():
            names.setdefault(table, {}).update(keys)
    tables = {}
    for table, keys in names.items():
        tables[table] = handlers = {}
        for key, attr in keys.items():
            function = getattr(cls, attr, None)
            if function is not None:
                handlers[key] = function
    return tables


def index(cls, table=ELEMENTS):
    """
    The handlers C{cls} declares in C{table}, as key -> function (call it
    with the instance first); built once per class.
    """
    tables = vars(cls).get(_CACHE)
    if tables is None:
        tables = _build(cls)
        setattr(cls, _CACHE, tables)
    return tables.get(table, {})


def handlerFor(obj, key, table=ELEMENTS):
    """The method of C{obj} handling C{key} in C{table}, bound to C{obj}, or None."""
    function = index(type(obj), table).get(key)
    return None if function is None else function.__get__(obj, type(obj))
