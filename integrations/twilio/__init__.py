"""Twilio adapter: the only package that imports the official `twilio` SDK.

client      TwilioTelephony, the Telephony port over the SDK's async REST client.
forms       Webhook forms read into typed values (Twilio's field names stop here).
signatures  X-Twilio-Signature checking and signing (the SDK's RequestValidator).
twiml       TwiML documents for the crisis line and paging calls (the only TwiML builder).
sandbox*    A local stand-in for the subset of Twilio's REST API the project uses.
"""
