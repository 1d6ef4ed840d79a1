"""How SNS retries a failed HTTP/S delivery, as AWS documents it ("Amazon SNS message delivery
retries", https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html, and
"Step 1: Make sure your endpoint is ready", SendMessageToHttp.prepare.html). Pure functions, no
moto: sns_patches does the POSTs and the waiting.

- A failed attempt is no answer (timeout, connection error) or a status outside 200-4xx; SNS
  treats 4xx as a permanent failure (no retry); 2xx and 3xx are not failures.
- The effective policy is the subscription's `DeliveryPolicy` {"healthyRetryPolicy": …}, else the
  topic's {"http": {"defaultHealthyRetryPolicy": …}}; the topic's wins when it sets
  "disableSubscriptionOverrides". Keys a policy leaves out take SNS's defaults.
- The retries run in four phases: numNoDelayRetries at once, numMinDelayRetries minDelayTarget
  apart, the backoff phase (the retries left of numRetries) from minDelayTarget to
  maxDelayTarget, then numMaxDelayRetries maxDelayTarget apart.
"""

import json

# SNS's default HTTP/S policy: 3 retries, 20 s apart, all in the backoff phase.
DEFAULT_POLICY = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "numMaxDelayRetries": 0,
    "backoffFunction": "linear",
}

# How far the k-th of n backoff retries (k = 0 … n-1) has climbed from minDelayTarget, in units
# that _backoff scales so that the last one reaches maxDelayTarget. AWS shows the four shapes only
# in a graph (backoff-graph.png), so these are the emulator's reading of their names: equal steps
# (the one worked example, 3 retries from 20 s to 40 s: 20, 30, 40), steps growing by equal
# amounts, steps halving (fast at first), steps doubling (slow at first).
_CLIMB = {
    "linear": lambda k, n: k,
    "arithmetic": lambda k, n: k * (k + 1) / 2,
    "geometric": lambda k, n: 2 ** (n - 1) - 2 ** (n - 1 - k),
    "exponential": lambda k, n: 2**k - 1,
}


def retryable(status: int | None) -> bool:
    """Whether SNS retries an attempt that got this HTTP status (None: no answer at all)."""
    return status is None or not 200 <= status < 500


def effective_policy(subscription_policy: str | None, topic_policy: str | None) -> dict:
    """The healthyRetryPolicy SNS follows for a subscription, from the two attributes' JSON."""
    topic_http = _json(topic_policy).get("http") or {}
    own = _json(subscription_policy).get("healthyRetryPolicy")
    if own and not topic_http.get("disableSubscriptionOverrides"):
        return own
    return topic_http.get("defaultHealthyRetryPolicy") or {}


def retry_delays(policy: dict) -> list[float]:
    """Seconds to wait before each retry, in order: numRetries of them when the other phases fit
    in that total, as the documentation defines it."""
    p = {**DEFAULT_POLICY, **policy}
    low, high = float(p["minDelayTarget"]), float(p["maxDelayTarget"])
    no_delay, at_min, at_max = (
        int(p["numNoDelayRetries"]), int(p["numMinDelayRetries"]), int(p["numMaxDelayRetries"])
    )
    backoff = max(int(p["numRetries"]) - no_delay - at_min - at_max, 0)
    return ([0.0] * no_delay + [low] * at_min
            + _backoff(low, high, backoff, str(p["backoffFunction"]).lower())
            + [high] * at_max)


def _backoff(low: float, high: float, n: int, function: str) -> list[float]:
    """n delays, the first minDelayTarget and the last maxDelayTarget."""
    if n <= 1:
        return [low] * n
    climb = _CLIMB.get(function, _CLIMB["linear"])  # linear is SNS's default function
    whole = climb(n - 1, n)
    return [low + (high - low) * climb(k, n) / whole for k in range(n)]


def _json(text: str | None) -> dict:
    # moto stores any text as a policy; a malformed one counts as absent rather than failing
    # Publish.
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
