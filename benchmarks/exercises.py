"""The course's exercises as the benchmarks run them: reference and naive solutions, reproduced.

Module-level functions, so that a generated pytest file and a fresh ``python -c``
process can import them by name. Most return a count, not the data they built,
so that timing them measures the work, not sending a big result back.
"""

import array
import itertools

# --- small functions for the overhead benchmark


def noop():
    return None


def sum_generator_10k():
    return sum(i for i in range(10_000))


def build_list_100k():
    return len([i for i in range(100_000)])


# --- 04 lazy evaluation: sum_of_squares


def sum_of_squares_list(n):
    """Naive: builds the whole list of squares first."""
    return sum([x * x for x in range(n)])


def sum_of_squares_generator(n):
    """The learner's solution: a generator expression."""
    return sum(x * x for x in range(n))


def sum_of_squares_loop(n):
    """The hidden tests' reference: a plain loop."""
    total = 0
    for x in range(n):
        total += x * x
    return total


# --- 04 lazy evaluation: chunked


def chunked_reference(iterable, size):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def chunked_naive(iterable, size):
    items = list(iterable)
    return [items[i:i + size] for i in range(0, len(items), size)]


def consume_chunks(n, chunker):
    count = 0
    for chunk in chunker(iter(range(n)), 100):
        count += len(chunk)
    return count


def consume_reference(n):
    return consume_chunks(n, chunked_reference)


def consume_naive(n):
    return consume_chunks(n, chunked_naive)


# --- 01 memory model: share_equal


def share_equal_reference(n):
    labels = ["".join(("user-", str(i % 50))) for i in range(n)]  # n new strings, 50 distinct values
    first = {}
    return len([first.setdefault(value, value) for value in labels])


# --- 05 compact data: Record and pack_ints

SHARED_VALUES = (1, "x", None, 2.5, (1, 2))


class SlottedRecord:
    __slots__ = ("a", "b", "c", "d", "e")

    def __init__(self, a, b, c, d, e):
        self.a, self.b, self.c, self.d, self.e = a, b, c, d, e


def fill_records(n):
    holder = [None] * n
    for i in range(n):
        holder[i] = SlottedRecord(*SHARED_VALUES)
    return len(holder)


def fresh_ints(n):
    for i in range(n):
        yield (i * 2654435761) % 2**32 - 2**31


def pack_ints_reference(n):
    return len(array.array("i", fresh_ints(n)))
