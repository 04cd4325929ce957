"""Correct but wasteful solutions for 05-compact-data: they must lose exactly the memory points."""
WASTEFUL = {  # solution cell grade_id -> the whole cell source a wasteful-but-correct learner would write
    # No __dict__ and unknown attributes refused, but every instance still carries a dictionary of its values.
    "Record": '''class Record:
    __slots__ = ("_fields",)
    _NAMES = ("a", "b", "c", "d", "e")

    def __init__(self, a, b, c, d, e):
        object.__setattr__(self, "_fields", {"a": a, "b": b, "c": c, "d": d, "e": e})

    def __getattr__(self, name):
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        if name not in self._NAMES:
            raise AttributeError(f"Record has no attribute {name!r}")
        self._fields[name] = value
''',
    # Range-checked, but stored as a list of int objects (about 40 bytes per value instead of 4).
    "pack_ints": '''def pack_ints(values):
    result = []
    for v in values:
        if not -2**31 <= v < 2**31:
            raise OverflowError(f"{v} does not fit in 32 bits")
        result.append(v)
    return result
''',
}
MEMORY_TESTS = {"test_Record_memory", "test_pack_ints_memory"}  # the test cells WASTEFUL must fail; every other must pass
