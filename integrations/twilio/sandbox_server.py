"""The Twilio sandbox in a process of its own, as `dispatch up` runs it (decision 056).

Twilio is another party's service: its work (the REST requests the worker makes, the three
delivery reports it posts back for every SMS, the phones' console) does not belong in the
web edge's event loop, where every webhook would wait behind it. So the stack starts it as
a child, beside the web edge, and stops it by PID.

    python -m integrations.twilio.sandbox_server --voice-webhook-url URL --sms-webhook-url URL
        [--fallback-url URL] [--host 127.0.0.1] [--port 0] [--port-file FILE]

The account SID and auth token come from the environment (TWILIO_ACCOUNT_SID,
TWILIO_AUTH_TOKEN), never from the command line. It serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

import structlog

from dispatch.logs import configure_logging
from dispatch.settings import Settings
from dispatch.stack.port_file import write_port
from dispatch.stack.server_child import ServerChild
from integrations.twilio.sandbox import TwilioSandbox

log = structlog.get_logger(__name__)


async def serve(args: argparse.Namespace) -> None:
    sandbox = TwilioSandbox(
        os.environ["TWILIO_ACCOUNT_SID"],
        os.environ["TWILIO_AUTH_TOKEN"],
        voice_webhook_url=args.voice_webhook_url,
        sms_webhook_url=args.sms_webhook_url,
    )
    base_url = await sandbox.start(args.host, args.port)
    sandbox.set_fallbacks(args.fallback_url)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    if args.port_file:
        write_port(args.port_file, int(base_url.rsplit(":", 1)[1]))
    try:
        await stopping.wait()
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice-webhook-url", required=True)
    parser.add_argument("--sms-webhook-url", required=True)
    parser.add_argument("--fallback-url", default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path, help="write the bound port here when ready")
    args = parser.parse_args(argv)
    configure_logging(fmt="json", level=os.environ.get("LOG_LEVEL", "info"))
    asyncio.run(serve(args))


async def start_sandbox_process(
    settings: Settings, *, public_url: str, fallback_url: str, log_path: Path
) -> tuple[ServerChild, str]:
    """The sandbox as the stack's child, for the web edge at `public_url`; (the child, the
    base URL to use as TWILIO_API_BASE_URL)."""
    host = "127.0.0.1"
    child = ServerChild(
        [
            *(sys.executable, "-m", "integrations.twilio.sandbox_server"),
            *("--voice-webhook-url", f"{public_url}/twilio/voice"),
            *("--sms-webhook-url", f"{public_url}/twilio/sms"),
            *("--fallback-url", fallback_url, "--host", host),
        ],
        name="Twilio sandbox",
        log_path=log_path,
        env={
            **os.environ,
            "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": settings.twilio_auth_token.get_secret_value(),
            "LOG_LEVEL": settings.log_level,
        },
    )
    port = await child.start()
    base_url = f"http://{host}:{port}"
    log.info("twilio_sandbox_process_started", pid=child.pid, url=base_url, log=str(log_path))
    return child, base_url


if __name__ == "__main__":
    main()
