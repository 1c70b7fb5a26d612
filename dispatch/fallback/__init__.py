"""The last line of defence: a static TwiML document that puts a caller through to the
out-of-hours crisis number, and a tiny server for it that needs neither the app, Kafka nor
PostgreSQL (the crisis line number's Fallback URL; docs/decisions/013)."""
