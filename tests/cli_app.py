"""A Typer application holding one command group, as ``almia`` registers it."""

from __future__ import annotations

from collections.abc import Callable

import typer


def app_with(register_commands: Callable[[typer.Typer], None]) -> typer.Typer:
    """An application with a root callback (so the group keeps its name) and the group."""
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Test root."""

    register_commands(app)
    return app
