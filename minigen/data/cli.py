"""`minigen data ...` commands (filled in by the data layer)."""

import typer

data_app = typer.Typer(no_args_is_help=True)


@data_app.command()
def show(name: str) -> None:
    """Print a readable sample of a dataset's training documents and test items."""
    raise NotImplementedError
