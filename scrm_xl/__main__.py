"""``python -m scrm_xl`` is the ``scrm-xl`` command."""

from .cli import command

command()
