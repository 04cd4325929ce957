"""Correct but wasteful solutions for 02-references-and-gc: they must lose exactly the memory points."""

WASTEFUL = {
    # the parent link is weak, so every answer is right once the collector has run -- but each node stores a
    # closure over itself, a reference cycle, so dropping the root frees nothing until the cycle collector runs
    "Node": (
        "class Node:\n"
        "    def __init__(self, data):\n"
        "        self.data = data\n"
        "        self.children = []\n"
        "        self._parent = None\n"
        "        self.get_parent = lambda: self._parent() if self._parent is not None else None\n"
        "\n"
        "    @property\n"
        "    def parent(self):\n"
        "        return self.get_parent()\n"
        "\n"
        "    def add_child(self, child):\n"
        "        self.children.append(child)\n"
        "        child._parent = weakref.ref(self)\n"
    ),
}
MEMORY_TESTS = {"test_Node_memory"}
