"""Correct but wasteful solutions for 06-sharing: they must lose exactly the memory points."""
WASTEFUL = {  # solution cell grade_id -> the whole cell source a wasteful-but-correct learner would write
    # Right identity and count, but the factory remembers every request (and so every shared-state string it was given).
    "FlyweightFactory": '''class Flyweight:
    def __init__(self, shared_state):
        self.shared_state = shared_state

    def operation(self, unique_state):
        return f"Flyweight: shared ({self.shared_state}) and unique ({unique_state})"


class FlyweightFactory:
    def __init__(self):
        self._flyweights = {}
        self._requests = []          # a log of every request, kept "for statistics"

    def get_flyweight(self, shared_state):
        self._requests.append(shared_state)
        if shared_state not in self._flyweights:
            self._flyweights[shared_state] = Flyweight(shared_state)
        return self._flyweights[shared_state]

    def count(self):
        return len(set(self._requests))
''',
    # Right result, but it stores every input string before canonicalising (a generator's strings all at once).
    "intern_all": '''def intern_all(strings):
    strings = list(strings)
    return [sys.intern(s) for s in strings]
''',
}
MEMORY_TESTS = {"test_FlyweightFactory_memory", "test_intern_all_memory"}  # the test cells WASTEFUL must fail; every other must pass
