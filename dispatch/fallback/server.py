"""A static server for the fallback TwiML document: standard library only, one document
served at every path for GET, HEAD and POST (Twilio requests a Fallback URL with POST unless
told GET), so it runs wherever Python runs, with none of the app's dependencies.

    python -m dispatch.fallback.server --file fallback.xml [--host 0.0.0.0] [--port 8081]

The document is re-read when it changes (`dispatch fallback-twiml --out FILE` rewrites it
atomically); if it cannot be read, the last good copy is served. One JSON line per request
goes to stderr (no phone numbers: the caller's form is never logged).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dispatch.stack.port_file import write_port

MAX_BODY = 64 * 1024


class Document:
    """The file's bytes, re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._body = b""
        if not self.body():
            raise SystemExit(f"fallback TwiML {path} is missing or empty")

    def body(self) -> bytes:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_ino, st.st_size)  # a rewrite is a new inode
            if stamp != self._stamp:
                self._body, self._stamp = self.path.read_bytes() or self._body, stamp
        except OSError:
            pass  # keep serving the last good copy
        return self._body


def handler_for(document: Document) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.send_error(413)
                return
            self.rfile.read(length)  # Twilio's form; only the answer matters
            self._answer(with_body=True)

        def _answer(self, *, with_body: bool) -> None:
            body = document.body()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            line = {"event": "fallback_twiml_served", "method": self.command,
                    "path": self.path.split("?")[0], "status": args[1] if len(args) > 1 else "",
                    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # fmt: skip
            print(json.dumps(line), file=sys.stderr, flush=True)

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, required=True, help="the fallback TwiML document")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0: any free port")
    parser.add_argument("--port-file", type=Path, help="write the bound port here when ready")
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), handler_for(Document(args.file)))
    port = server.server_address[1]
    if args.port_file:
        write_port(args.port_file, port)
    print(json.dumps({"event": "fallback_twiml_server_started", "port": port}), file=sys.stderr,
          flush=True)  # fmt: skip
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
