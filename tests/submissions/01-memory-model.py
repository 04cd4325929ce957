"""Correct but wasteful solutions for 01-memory-model: they must lose exactly the memory points."""
WASTEFUL = {  # solution cell grade_id -> the whole cell source a wasteful-but-correct learner would write
    "share_equal": (
        "def share_equal(values):\n"
        "    \"\"\"Equal to values, but every duplicate stays its own object.\"\"\"\n"
        "    return list(values)\n"
    ),
}
MEMORY_TESTS = {"test_share_equal_memory"}  # the test cells WASTEFUL must fail; every other must pass
