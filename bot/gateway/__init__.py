"""Model gateway: the approved-model calls (litellm lives in ``llm``), shared types, circuit breaker."""
