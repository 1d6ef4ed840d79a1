"""How SNS retries deliveries to trackses' HTTPS endpoints: one retry policy
(cloudformation/https-retry-policy.json), within the limits AWS documents for HTTP/S endpoints
(at most 100 retries, a total retry time of at most 3,600 s), on every subscription to trackses
the templates make (wiring gives the topics it creates the same as their default)."""

import json
from pathlib import Path

import yaml

from support import TemplateLoader

ROOT = Path(__file__).resolve().parents[3]
RETRY = json.loads((ROOT / "cloudformation" / "https-retry-policy.json").read_text())
TEMPLATES = ["cloudformation/customer-role.yaml", "cloudformation/callback-topic.yaml"]


def test_every_templated_subscription_carries_the_policy():
    for name in TEMPLATES:
        resources = yaml.load((ROOT / name).read_text(), Loader=TemplateLoader)["Resources"]
        subscriptions = [r for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"]
        assert subscriptions, name
        for subscription in subscriptions:
            policy = subscription["Properties"].get("DeliveryPolicy")
            assert policy == {"healthyRetryPolicy": RETRY}, name


def test_the_policy_fits_sns_limits_for_https():
    retry = RETRY
    phases = retry["numNoDelayRetries"] + retry["numMinDelayRetries"] + retry["numMaxDelayRetries"]
    assert retry["numRetries"] <= 100 and phases <= retry["numRetries"]
    assert 1 <= retry["minDelayTarget"] <= retry["maxDelayTarget"] <= 3600
    # The longest it can take: every backoff retry at the maximum delay.
    backoff = retry["numRetries"] - phases
    worst = (retry["numMinDelayRetries"] * retry["minDelayTarget"]
             + (backoff + retry["numMaxDelayRetries"]) * retry["maxDelayTarget"])
    assert worst <= 3600, worst
    # And far longer than SNS's default (3 retries, 20 s apart): at least half an hour if every
    # backoff retry took the minimum delay.
    least = retry["numMaxDelayRetries"] * retry["maxDelayTarget"]
    assert least >= 20 * 60, least
