"""A real SMTP server for usher's mail tests (aiosmtpd).

Usage: python smtp_sink.py PORT DIR   (PORT 0 picks a free port)

Prints "LISTENING <port>" once bound. Each accepted message is written to DIR as one JSON file
({mail_from, rcpt_tos, to, subject, text}) before the server answers 250, so a client that got
its 250 can read the file at once. Recipients whose local part starts with "reject" get
550 (permanent) and "later" get 451 (transient), to exercise the client's error handling.
Exits when stdin closes, so a test process that dies takes the server with it.
"""

import asyncio
import email
import email.policy
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 Recipient address rejected"
        if local.startswith("later"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "content_type": message.get_content_type(),
            "text": body.get_content() if body is not None else None,
        }
        self.count += 1
        path = os.path.join(self.directory, f"{self.count:06}.json")
        # Write then rename: a reader never sees half a file.
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(path + ".tmp", path)
        return "250 Message accepted"


async def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    handler = Sink(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="sink.test"), "127.0.0.1", port)
    print(f"LISTENING {server.sockets[0].getsockname()[1]}", flush=True)
    # Serve until the parent closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
