"""Running the course with a class: the ``python-memory`` command and its subcommands.

Shipped in the student wheel next to :mod:`autograder`, so nothing here may hold
solutions or hidden tests.
"""
