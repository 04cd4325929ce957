"""Correct but wasteful solutions for 04-lazy-evaluation: they must lose exactly the memory points."""

WASTEFUL = {
    # builds the whole list of squares before summing
    "sum_of_squares": "def sum_of_squares(n):\n    return sum([x * x for x in range(n)])\n",
    # lazy and correct, even on endless input, but keeps every item it has read
    "chunked": (
        "def chunked(iterable, size):\n"
        "    seen = []\n"
        "    chunk = []\n"
        "    for item in iterable:\n"
        "        seen.append(item)\n"
        "        chunk.append(item)\n"
        "        if len(chunk) == size:\n"
        "            yield chunk\n"
        "            chunk = []\n"
        "    if chunk:\n"
        "        yield chunk\n"
    ),
}
MEMORY_TESTS = {"test_sum_of_squares_memory", "test_chunked_memory"}
