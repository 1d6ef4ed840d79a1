"""SNS message signing with ONE fixed, emulator-only key and self-signed certificate.

The key and certificate in this directory are public test material (see dev/emulator/README.md):
never trust them outside a local development setup.
"""

import base64
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

HERE = Path(__file__).parent
CERT_PATH = next(HERE.glob("SimpleNotificationService-*.pem"))
CERT_NAME = CERT_PATH.name
CERT_PEM = CERT_PATH.read_bytes()
_KEY = serialization.load_pem_private_key((HERE / "sns-signing-key.pem").read_bytes(), None)

# Fields of the string to sign, in the order AWS uses (absent fields are skipped).
_SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
}
_SIGNED_FIELDS["UnsubscribeConfirmation"] = _SIGNED_FIELDS["SubscriptionConfirmation"]
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}


def cert_url(region: str) -> str:
    return f"https://sns.{region}.amazonaws.com/{CERT_NAME}"


def string_to_sign(msg: dict) -> str:
    return "".join(
        f"{name}\n{msg[name]}\n"
        for name in _SIGNED_FIELDS[msg["Type"]]
        if msg.get(name) is not None
    )


def sign(msg: dict, region: str, version: str = "1") -> dict:
    """Append SignatureVersion, Signature and SigningCertURL to msg (in place, like AWS's order)."""
    signature = _KEY.sign(
        string_to_sign(msg).encode("utf-8"), padding.PKCS1v15(), _HASHES[version]()
    )
    msg["SignatureVersion"] = version
    msg["Signature"] = base64.b64encode(signature).decode("ascii")
    msg["SigningCertURL"] = cert_url(region)
    return msg
