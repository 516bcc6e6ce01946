"""What every command shares: one-line errors with exit code 2."""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar

import typer

from nonstop.errors import UserError

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> "typer.Exit":
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(2)


def user_errors(func: F) -> F:
    """Turn UserError into its one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            raise fail(str(exc)) from None

    return wrapper  # type: ignore[return-value]
