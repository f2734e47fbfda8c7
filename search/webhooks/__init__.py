"""Webhooks for the change feed: each subscriber gets, pushed and signed, the changes it would read at GET /v1/changes."""
