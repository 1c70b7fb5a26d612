"""Ingress: webhooks and API calls become events, spooled durably before publishing."""
