"""SNS retries of failed HTTP/S deliveries, as AWS documents them ("Amazon SNS message delivery
retries", "Creating an HTTP/S delivery policy", SendMessageToHttp.prepare): the schedule of the
four phases, which policy applies, and end to end (boto3 against the emulator, time scaled) that
a 2-minute outage answered with 503 loses nothing under trackses' policy
(cloudformation/https-retry-policy.json) and loses the message under SNS's default."""

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from trackses_emulator.sns_retries import effective_policy, retry_delays, retryable

from support import Receiver

ROOT = Path(__file__).resolve().parents[3]
RETRY = json.loads((ROOT / "cloudformation" / "https-retry-policy.json").read_text())
REGION = "eu-central-1"
OUTAGE = 120  # emulated seconds of 503 answers
# Emulated seconds the deliveries are watched for after Publish: trackses' policy delivers after
# about 148 s, and a retry after that (60 s later) must not come.
WINDOW = 300

# --- the schedule ----------------------------------------------------------------------


def test_the_default_policy_is_three_retries_20_seconds_apart():
    assert retry_delays({}) == [20, 20, 20]


def test_linear_backoff_is_the_documented_example():
    # "set the maximum delay to 40 seconds and leave the remaining settings at their default
    # values ... the first retry after 20 seconds, the second retry after 30 seconds, and the
    # final retry after 40 seconds"
    assert retry_delays({"maxDelayTarget": 40}) == [20, 30, 40]


def test_the_documented_sample_policy_runs_its_four_phases_in_order():
    delays = retry_delays({
        "minDelayTarget": 1, "maxDelayTarget": 60, "numRetries": 50, "numNoDelayRetries": 3,
        "numMinDelayRetries": 2, "numMaxDelayRetries": 35, "backoffFunction": "exponential",
    })
    assert len(delays) == 50
    assert delays[:3] == [0, 0, 0]  # 3 times immediately
    assert delays[3:5] == [1, 1]  # 2 times, 1 second apart
    backoff = delays[5:15]  # 10 times, from 1 second to 60 seconds
    assert backoff[0] == 1 and backoff[-1] == 60 and backoff == sorted(backoff)
    assert delays[15:] == [60] * 35  # 35 times, 60 seconds apart


@pytest.mark.parametrize("function", ["linear", "arithmetic", "geometric", "exponential"])
def test_every_backoff_function_climbs_from_the_minimum_to_the_maximum(function):
    # The documentation's graph: 10 retries, minimum delay 5 s, maximum delay 260 s.
    delays = retry_delays({"numRetries": 10, "minDelayTarget": 5, "maxDelayTarget": 260,
                           "backoffFunction": function})
    assert len(delays) == 10 and delays[0] == 5 and delays[-1] == pytest.approx(260)
    assert delays == sorted(delays)


def test_the_backoff_functions_differ():
    schedules = {tuple(retry_delays({"numRetries": 10, "minDelayTarget": 5,
                                     "maxDelayTarget": 260, "backoffFunction": function}))
                 for function in ("linear", "arithmetic", "geometric", "exponential")}
    assert len(schedules) == 4


def test_trackses_policy_outlasts_a_2_minute_outage_within_the_hour():
    delays = retry_delays(RETRY)
    assert len(delays) == RETRY["numRetries"]
    assert OUTAGE < sum(delays) <= 3600


def test_the_subscription_policy_wins_over_the_topic_policy_unless_overrides_are_disabled():
    own = {"numRetries": 7}
    topic = {"numRetries": 9}
    sub_policy = json.dumps({"healthyRetryPolicy": own})
    topic_policy = json.dumps({"http": {"defaultHealthyRetryPolicy": topic}})
    assert effective_policy(sub_policy, topic_policy) == own
    assert effective_policy(None, topic_policy) == topic
    assert effective_policy("", "") == {}  # SNS's default (retry_delays fills it in)
    locked = json.dumps({"http": {"defaultHealthyRetryPolicy": topic,
                                  "disableSubscriptionOverrides": True}})
    assert effective_policy(sub_policy, locked) == topic


def test_which_answers_are_retried():
    # Failed: no answer, 100-101, 500-599; 4xx is a permanent failure, 2xx/3xx delivered.
    assert all(retryable(status) for status in (None, 100, 101, 500, 503, 599))
    assert not any(retryable(status) for status in (200, 204, 302, 400, 404, 429, 499))


# --- end to end ------------------------------------------------------------------------


class Outage:
    """An endpoint's answers: 503 to Notifications for `seconds` from the first one, then 200.
    Every Notification is recorded as (MessageId, status, monotonic time)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = None
        self.answers: list[tuple[str, int, float]] = []
        self.lock = threading.Lock()

    def __call__(self, headers: dict) -> int:
        h = {k.lower(): v for k, v in headers.items()}
        if h["x-amz-sns-message-type"] != "Notification":
            return 200
        now = time.monotonic()
        with self.lock:
            self.end = self.end or now + self.seconds
            status = 503 if now < self.end else 200
            self.answers.append((h["x-amz-sns-message-id"], status, now))
        return status


@dataclass
class Run:
    outage: Outage
    receiver: Receiver
    message_id: str
    published: float  # monotonic time Publish returned


def start(emulator, name, topic_policy=None, subscription_policy=None) -> Run:
    """A confirmed subscription behind an outage, and one message published to it."""
    sns = emulator.client("sns", REGION)
    topic = sns.create_topic(Name=f"retries-{name}")["TopicArn"]
    if topic_policy:  # as trackses sets it on the topics it creates (crates/customer)
        sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy",
                                 AttributeValue=json.dumps(topic_policy))
    outage = Outage(OUTAGE * emulator.time_scale)
    receiver = Receiver(answer=outage)
    attributes = {"DeliveryPolicy": json.dumps(subscription_policy)} if subscription_policy else {}
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"{receiver.url}/{name}",
                  Attributes=attributes)
    token = json.loads(receiver.get(f"/{name}")[1])["Token"]
    sns.confirm_subscription(TopicArn=topic, Token=token)
    message_id = sns.publish(TopicArn=topic, Message=f"through the outage ({name})")["MessageId"]
    return Run(outage, receiver, message_id, time.monotonic())


@pytest.fixture(scope="module")
def runs(emulator):
    """The three outages side by side (each is watched for WINDOW emulated seconds)."""
    started = {
        "subscription policy": start(emulator, "subscription",
                                     subscription_policy={"healthyRetryPolicy": RETRY}),
        "default policy": start(emulator, "default"),
        "topic policy": start(emulator, "topic",
                              topic_policy={"http": {"defaultHealthyRetryPolicy": RETRY}}),
    }
    time.sleep(WINDOW * emulator.time_scale)
    yield started
    for run in started.values():
        run.receiver.stop()


def attempts(run: Run) -> list[int]:
    """The answers to the run's deliveries, each of them an attempt of the published message."""
    assert {message_id for message_id, _, _ in run.outage.answers} == {run.message_id}
    return [status for _, status, _ in run.outage.answers]


def assert_delivered_once_after_retries(run: Run) -> None:
    statuses = attempts(run)
    assert statuses[-1] == 200 and set(statuses[:-1]) == {503}, statuses


def test_a_2_minute_outage_loses_nothing_under_trackses_policy(runs):
    assert_delivered_once_after_retries(runs["subscription policy"])


def test_the_same_outage_loses_the_message_under_sns_default_policy(runs, emulator):
    run = runs["default policy"]
    assert attempts(run) == [503] * 4  # the first attempt and 3 retries, 20 s apart
    drop = f"Notification {run.message_id} -> {run.receiver.url}/default dropped after 3 retries"
    assert drop in Path(emulator.tmp, "emulator.log").read_text()


def test_a_topic_policy_applies_when_the_subscription_has_none(runs):
    assert_delivered_once_after_retries(runs["topic policy"])


def test_publish_returns_before_the_retries_finish(runs):
    run = runs["subscription policy"]
    delivered = next(t for _, status, t in run.outage.answers if status == 200)
    assert run.published < delivered
