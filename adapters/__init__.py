"""Channel adapters: translate platform events to `bot.messages.Message` and render replies."""
