"""Storage: templates, usage events, audit trail, feedback, conversations."""

from bot.store.store import AuditEntry, Store, conversation_key

__all__ = ["AuditEntry", "Store", "conversation_key"]
