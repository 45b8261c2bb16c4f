"""``python -m bot`` is the ``almia`` command."""

from bot.cli import main

main()
