"""``python -m bot`` is the ``almia`` command."""

from bot.cli.main import main

main()
