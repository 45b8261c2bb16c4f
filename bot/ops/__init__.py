"""Running Almia in production: metrics, health and readiness, graceful shutdown, JSON logs,
several worker processes per replica, keys held by an external KMS."""
