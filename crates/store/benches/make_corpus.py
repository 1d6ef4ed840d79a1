"""Regenerates shared/benches/corpus/: SES events from events/ses/, signed like SNS signs them
(SignatureVersion 1 and 2 alternating) with the emulator's fixed key, one JSON envelope per line.

Run: PYTHONPATH=dev/emulator .venv/bin/python shared/benches/make_corpus.py
"""

import json
import uuid
from pathlib import Path

from trackses_emulator import signing

ROOT = Path(__file__).resolve().parents[2]
TOPIC = "arn:aws:sns:eu-west-1:111111111111:trackses-bench"
SKIP = {"unknown-type.json", "rendering-failure.json"}  # keep the corpus to 3-5 KB documents

# Headers a real SES message carries besides the samples' own, which bring documents to the
# 3-5 KB that SES really publishes.
EXTRA_HEADERS = [
    {"name": "DKIM-Signature", "value": "v=1; a=rsa-sha256; q=dns/txt; c=relaxed/simple; s=224i4yxa5dv7c2xz3womw6peuasteono; d=amazonses.com; t=1763886000; h=From:To:Subject:MIME-Version:Content-Type:Message-ID:Date:Feedback-ID; bh=Xq0Y0nGvYQ6rj0m2m8WcJ9gq7w1xH1xw2m5mPqk4s0c=; b=" + "Ab3dE5fGh7Ij9Kl1Mn3Op5Qr7St9Uv1Wx3Yz5aB7cD9eF1gH3iJ5kL7mN9oP1qR3sT5uV7wX9yZ1" * 4},
    {"name": "Feedback-ID", "value": "::1.eu-west-1.Pq2hVZ0kS4n7vC5m1tX9bR3yL6wF8dJ0aE2gH4iK6oM=:AmazonSES"},
    {"name": "List-Unsubscribe", "value": "<https://mail.example.com/unsubscribe?u=7f3a9c2e1b5d4f6a8c0e2d4f6a8b0c2e&l=weekly>, <mailto:unsubscribe+7f3a9c2e@mail.example.com>"},
    {"name": "List-Unsubscribe-Post", "value": "List-Unsubscribe=One-Click"},
    {"name": "X-SES-Outgoing", "value": "2026.11.23-54.240.4.12"},
    {"name": "Received", "value": "from mta-2.internal.example.com (ip-10-0-14-2.eu-west-1.compute.internal [10.0.14.2]) by app-7.internal.example.com (Postfix) with ESMTP id 4Gq7Xk2mZPz9sWb for <ana@example.com>; Mon, 23 Nov 2026 07:59:59 +0000"},
    {"name": "Received", "value": "from app-7.internal.example.com (ip-10-0-12-7.eu-west-1.compute.internal [10.0.12.7]) by email-smtp.amazonaws.com with ESMTPSA id 0102019a3b7c8d9e for <ana@example.com>; Mon, 23 Nov 2026 08:00:00 +0000"},
]


def envelope(message: str, version: str, n: int) -> dict:
    msg = {
        "Type": "Notification",
        "MessageId": str(uuid.UUID(int=n)),
        "TopicArn": TOPIC,
        "Subject": "Amazon SES Email Event Notification",
        "Message": message,
        "Timestamp": f"2026-11-23T08:{n % 60:02d}:00.000Z",
    }
    signing.sign(msg, "eu-west-1", version)
    msg["UnsubscribeURL"] = f"https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:x"
    return msg


def main() -> None:
    lines = []
    samples = sorted(p for p in (ROOT / "events/ses").glob("*.json") if p.name not in SKIP)
    for n, path in enumerate(samples * 2):
        document = json.loads(path.read_text())
        document["mail"].setdefault("headers", []).extend(EXTRA_HEADERS)
        message = json.dumps(document, separators=(",", ":"))
        lines.append(json.dumps(envelope(message, "12"[n % 2], n)))
    out = Path(__file__).parent / "corpus"
    (out / "notifications.jsonl").write_text("\n".join(lines) + "\n")
    (out / signing.CERT_NAME).write_bytes(signing.CERT_PEM)
    sizes = [len(json.loads(line)["Message"]) for line in lines]
    print(f"{len(lines)} notifications, SES documents {min(sizes)}-{max(sizes)} bytes")


if __name__ == "__main__":
    main()
