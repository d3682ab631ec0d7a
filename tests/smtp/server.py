#!/usr/bin/env python3
"""A real SMTP submission server for the integration tests, built on aiosmtpd 1.4.6.

It listens on loopback on three ports the OS picks:
  starttls  plain TCP, STARTTLS required before MAIL, AUTH offered only after TLS
  tls       implicit TLS from the first byte (like port 465)
  plain     no TLS at all but AUTH offered anyway: a client must refuse to log in here

and writes {"starttls": p, "tls": p, "plain": p} to OUT/ready.json once listening.
Every message received goes to OUT/messages/NNNN.eml (the raw bytes); every chunk of bytes
received and every login goes to OUT/events.jsonl, saying whether the connection was encrypted
at that moment and whether the password was in it (as typed, or base64 as AUTH sends it).

Replies can be scripted to test failures:
  --mail-reply "550 5.7.30 ..."          answer every MAIL FROM with this
  --data-reply "421 4.3.2 ..." --data-reply-times N
                                         answer the first N messages with this, then accept
A wrong password gets aiosmtpd's own "535 5.7.8 Authentication credentials invalid".
"""

import argparse
import asyncio
import base64
import json
import logging
import os
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main():
    # aiosmtpd 1.4 warns about its own use of Session.login_data on every login, and about
    # the plain port, which exists to prove that clients refuse it.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--mail-reply")
    ap.add_argument("--data-reply")
    ap.add_argument("--data-reply-times", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "messages"), exist_ok=True)
    asyncio.run(serve(args))


def carries(data, password):
    """Whether `data` holds the password as typed or base64-encoded (as AUTH sends it)."""
    if password in data:
        return True
    for token in data.split():
        try:
            if password in base64.b64decode(token, validate=True):
                return True
        except ValueError:
            continue
    return False


class Recorder:
    def __init__(self, args):
        self.args = args
        self.events = open(os.path.join(args.out, "events.jsonl"), "a", buffering=1)
        self.count = 0
        self.data_refusals = args.data_reply_times
        self.password = args.password.encode()

    def event(self, **fields):
        self.events.write(json.dumps(fields) + "\n")

    # Handler hooks.
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.args.mail_reply:
            return self.args.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.data_reply and self.data_refusals > 0:
            self.data_refusals -= 1
            self.event(kind="refused", reply=self.args.data_reply)
            return self.args.data_reply
        self.count += 1
        name = os.path.join(self.args.out, "messages", f"{self.count:04d}.eml")
        with open(name + ".part", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".part", name)
        self.event(kind="message", to=envelope.rcpt_tos, mail_from=envelope.mail_from)
        return f"250 2.0.0 Ok: queued as Q{self.count:04d}"

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.args.user
            and auth_data.password.decode() == self.args.password
        )
        self.event(kind="auth", mechanism=mechanism, tls=server.encrypted(), ok=ok)
        # handled=False: aiosmtpd itself answers a failure with "535 5.7.8 ...".
        return AuthResult(success=ok, handled=False)


def server_class(recorder, implicit):
    class RecordingSMTP(SMTP):
        def encrypted(self):
            return implicit or self._tls_protocol is not None

        def data_received(self, data):
            recorder.event(
                kind="bytes",
                tls=self.encrypted(),
                has_password=carries(data, recorder.password),
            )
            super().data_received(data)

    return RecordingSMTP


async def serve(args):
    recorder = Recorder(args)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)
    loop = asyncio.get_running_loop()

    def factory(implicit, **kw):
        cls = server_class(recorder, implicit)
        return lambda: cls(
            recorder,
            hostname="mail.test",
            authenticator=recorder.authenticator,
            auth_required=True,
            **kw,
        )

    starttls = await loop.create_server(
        factory(False, tls_context=tls, require_starttls=True, auth_require_tls=True),
        "127.0.0.1",
        0,
    )
    implicit = await loop.create_server(
        factory(True, auth_require_tls=False), "127.0.0.1", 0, ssl=tls
    )
    plain = await loop.create_server(
        factory(False, auth_require_tls=False), "127.0.0.1", 0
    )
    ports = {
        "starttls": starttls.sockets[0].getsockname()[1],
        "tls": implicit.sockets[0].getsockname()[1],
        "plain": plain.sockets[0].getsockname()[1],
    }
    ready = os.path.join(args.out, "ready.json")
    with open(ready + ".part", "w") as f:
        json.dump(ports, f)
    os.rename(ready + ".part", ready)
    # Stop when the test's end of stdin closes (the test process went away).
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()


if __name__ == "__main__":
    main()
