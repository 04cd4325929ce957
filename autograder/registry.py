"""The one list of the autograder's checks: what a test cell may call, and what each one grades.

The nbgrader hook that requires a record per check call, the instructor guide's
table and the tests all read this list, so they cannot drift apart.
"""

from __future__ import annotations

import io
import tokenize

# name -> what it grades (the guide's table shows these lines)
CHECKS = {
    "check_result": "correctness, isolated; plain-data results compared with exactly the same types",
    "check_memory": "peak or retained memory within factor × the reference's + allowance, measured in the same run",
    "check_scaling": "peak memory that grows no faster than a law (constant, linear) from n to k·n",
    "check_freed": "a structure freed by reference counting alone: no object it was built from survives",
    "check_no_growth": "memory that stays flat over repeated calls: two windows, a budget per call",
    "check_answer": "a quiz answer's form; in the learner's notebook, right or wrong at once (not while autograding)",
    "check_format": "a quiz answer's form (one of the letters offered)",
    "check_choice": "a quiz answer (hidden): the right letter, as an exact str",
    "check_filled": "a short answer's form (text or a number given)",
    "check_short": "a short answer (hidden): one of the accepted words or numbers",
}


def count_calls(source: str) -> int:
    """How many checks a cell's code calls: names followed by "(", outside strings and comments."""
    count = 0
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return 0
    for token, following in zip(tokens, tokens[1:]):
        if token.type == tokenize.NAME and token.string in CHECKS and following.type == tokenize.OP \
                and following.string == "(":
            count += 1
    return count
