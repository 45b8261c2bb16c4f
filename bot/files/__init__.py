"""Files in and out of every channel: intake checks, signed download links, settings.

Adapters download what a person sends, :func:`bot.files.intake.check_file` decides whether it
may be kept (type sniffed from the content, size and archive limits), and the accepted bytes
go to :class:`bot.store.files.FileStore` (encrypted, per owner). Skills return artefacts that
travel the other way through the same store.
"""
