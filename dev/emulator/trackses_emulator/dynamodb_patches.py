"""DynamoDB: one request at a time.

moto's DynamoDB backend is not thread-safe, and moto's server answers on many threads:
TransactWriteItems deep-copies whole tables for its rollback while other threads write to them,
and fails with "dictionary changed size during iteration" (HTTP 500) under concurrent load.
Real DynamoDB serialises conflicting writes; serialising every request is the simple equivalent.
"""

import threading

from moto.dynamodb.responses import DynamoHandler

_lock = threading.RLock()
_original = None


def apply() -> None:
    global _original
    if _original is not None:
        return
    _original = DynamoHandler.call_action

    def call_action(self):
        with _lock:
            return _original(self)

    DynamoHandler.call_action = call_action
