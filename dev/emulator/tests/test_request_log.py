"""The request log: GET /_trackses/requests lists every request (who, what, on which resources,
HTTP status), filterable by access_key_id, action and service; DELETE clears it."""

import json
import urllib.parse
import urllib.request

import pytest
from botocore.exceptions import ClientError

REGION = "eu-central-1"
USER = "log-user"


def log(emulator, method="GET", **filters):
    query = f"?{urllib.parse.urlencode(filters)}" if filters else ""
    req = urllib.request.Request(f"{emulator.base}/_trackses/requests{query}", method=method)
    with urllib.request.urlopen(req) as resp:  # unsigned, like curl
        body = resp.read()
        return resp.status, json.loads(body) if body else None


@pytest.fixture(scope="module")
def user_key(emulator):
    iam = emulator.client("iam", REGION)
    iam.create_user(UserName=USER)
    iam.put_user_policy(UserName=USER, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
            "ses:GetEmailIdentity", "ses:PutEmailIdentityConfigurationSetAttributes"]},
            {"Effect": "Allow", "Action": "sns:CreateTopic",
             "Resource": "arn:aws:sns:*:*:trackses-*"}],
    }))
    emulator.client("sesv2", REGION).create_email_identity(EmailIdentity="sender@example.com")
    emulator.client("sesv2", REGION).create_configuration_set(ConfigurationSetName="trackses-log")
    return iam.create_access_key(UserName=USER)["AccessKey"]


def test_request_log(emulator, user_key):
    key_id = user_key["AccessKeyId"]
    assert log(emulator, "DELETE") == (204, None)
    assert log(emulator) == (200, [])

    sns = emulator.client("sns", REGION, key_id, user_key["SecretAccessKey"])
    sesv2 = emulator.client("sesv2", REGION, key_id, user_key["SecretAccessKey"])
    topic = sns.create_topic(Name="trackses-logged")["TopicArn"]
    with pytest.raises(ClientError):
        sns.create_topic(Name="not-allowed")
    sesv2.get_email_identity(EmailIdentity="sender@example.com")
    try:  # not in moto 5.2.5's SESv2 itself (ses_patches may add it): log whatever it answers
        put_status = sesv2.put_email_identity_configuration_set_attributes(
            EmailIdentity="sender@example.com", ConfigurationSetName="trackses-log",
        )["ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as err:
        put_status = err.response["ResponseMetadata"]["HTTPStatusCode"]
    emulator.client("sns", REGION).list_topics()  # default credentials

    status, entries = log(emulator, access_key_id=key_id)
    user_arn = f"arn:aws:iam::123456789012:user/{USER}"
    assert [(e["action"], e["status"], e["resources"]) for e in entries] == [
        ("sns:CreateTopic", 200, {"Name": "trackses-logged"}),
        ("sns:CreateTopic", 403, {"Name": "not-allowed"}),
        ("ses:GetEmailIdentity", 200, {"EmailIdentity": "sender@example.com"}),
        ("ses:PutEmailIdentityConfigurationSetAttributes", put_status,
         {"EmailIdentity": "sender@example.com", "ConfigurationSetName": "trackses-log"}),
    ]
    assert {(e["access_key_id"], e["account"], e["arn"]) for e in entries} == {
        (key_id, "123456789012", user_arn)}
    assert all(e["time"].endswith("+00:00") for e in entries)
    assert topic.endswith(":trackses-logged")

    assert [e["resources"] for e in log(emulator, action="sns:CreateTopic")[1]] == [
        {"Name": "trackses-logged"}, {"Name": "not-allowed"}]
    assert [e["action"] for e in log(emulator, service="ses")[1]] == [
        "ses:GetEmailIdentity", "ses:PutEmailIdentityConfigurationSetAttributes"]
    default = log(emulator, action="sns:ListTopics")[1][-1]
    assert (default["access_key_id"], default["service"], default["status"]) == (
        "testing", "sns", 200)
    assert default["arn"] == "arn:aws:sts::123456789012:user/moto"

    assert log(emulator, "DELETE")[0] == 204
    assert log(emulator, access_key_id=key_id) == (200, [])


def test_request_log_assumed_role_and_json_protocol(emulator):
    log(emulator, "DELETE")
    role = "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole"
    creds = emulator.client("sts", REGION).assume_role(
        RoleArn=role, RoleSessionName="logged")["Credentials"]
    ddb = emulator.client("dynamodb", REGION, creds["AccessKeyId"], creds["SecretAccessKey"],
                          creds["SessionToken"])
    ddb.list_tables()
    [assume] = log(emulator, action="sts:AssumeRole")[1]
    [list_tables] = log(emulator, access_key_id=creds["AccessKeyId"])[1]
    assert (assume["action"], assume["resources"], assume["arn"]) == (
        "sts:AssumeRole", {"RoleArn": role}, "arn:aws:sts::123456789012:user/moto")
    assert (list_tables["action"], list_tables["account"], list_tables["arn"]) == (
        "dynamodb:ListTables", "444455556666",
        "arn:aws:sts::444455556666:assumed-role/OrganizationAccountAccessRole/logged")
