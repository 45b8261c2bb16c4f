"""Almia's channel-neutral core: settings, routing, model gateway, store, wiring."""
