"""UserError: bad input from a person. The CLI prints its one line and exits 2."""


class UserError(Exception):
    """A message naming the field and the fix; never a traceback."""
