"""HTTP edge: Twilio webhooks and the team-scoped API."""
