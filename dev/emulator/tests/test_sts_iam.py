"""STS trust policies and IAM user policies, as AWS documents them: AssumeRole needs a role whose
trust policy allows the caller (and the right sts:ExternalId), except the implicit
OrganizationAccountAccessRole; an IAM user's key may only do what its policies allow."""

import json
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

REGION = "eu-central-1"
CUSTOMER = "210987654321"  # the account trackses is given access to
OTHER = "333333333333"  # an account the role does not trust
# The customer policy from the design notes, in the `shared/` folder beside the checkout.
POLICY = Path(__file__).resolve().parents[4] / "shared" / "design" / "iam-policy.json"


def trust(principal, external_id=None):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def client_of(emulator, account, service):
    """A client with the default key acting in `account` (moto's x-moto-account-id header)."""
    client = emulator.client(service, REGION)
    if account != "123456789012":
        client.meta.events.register(
            "before-sign.*.*", lambda request, **_: request.headers.add_header(
                "x-moto-account-id", account))
    return client


def session(emulator, creds, service):
    return emulator.client(service, REGION, creds["AccessKeyId"], creds["SecretAccessKey"],
                           creds["SessionToken"])


def assume(emulator, account, role_arn, **kwargs):
    sts = client_of(emulator, account, "sts")
    return sts.assume_role(RoleArn=role_arn, RoleSessionName="trackses", **kwargs)


def denied(excinfo, code="AccessDenied"):
    err = excinfo.value.response
    assert err["Error"]["Code"] == code, err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403, err
    return err["Error"]["Message"]


@pytest.fixture(scope="module")
def customer_role(emulator):
    """A role in the customer account trusting the trackses account (123456789012) with an
    external id, created with the customer account's credentials."""
    iam = client_of(emulator, CUSTOMER, "iam")
    external_id = uuid.uuid4().hex
    role = iam.create_role(RoleName="TrackSesAccess",
                           AssumeRolePolicyDocument=trust("arn:aws:iam::123456789012:root",
                                                          external_id))["Role"]
    assert role["Arn"] == f"arn:aws:iam::{CUSTOMER}:role/TrackSesAccess"
    return role["Arn"], external_id


def test_assume_role_with_external_id_acts_in_that_account(emulator, customer_role):
    arn, external_id = customer_role
    resp = assume(emulator, "123456789012", arn, ExternalId=external_id)
    assert resp["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{CUSTOMER}:assumed-role/TrackSesAccess/trackses")
    ident = session(emulator, resp["Credentials"], "sts").get_caller_identity()
    assert ident["Account"] == CUSTOMER
    topic = session(emulator, resp["Credentials"], "sns").create_topic(Name="trackses-assumed")
    assert topic["TopicArn"] == f"arn:aws:sns:{REGION}:{CUSTOMER}:trackses-assumed"


@pytest.mark.parametrize("external_id", [None, "wrong"])
def test_assume_role_wrong_or_missing_external_id_denied(emulator, customer_role, external_id):
    arn, _ = customer_role
    kwargs = {} if external_id is None else {"ExternalId": external_id}
    with pytest.raises(ClientError) as exc:
        assume(emulator, "123456789012", arn, **kwargs)
    assert denied(exc) == (
        "User: arn:aws:sts::123456789012:user/moto is not authorized to perform: "
        f"sts:AssumeRole on resource: {arn}"
    )


def test_assume_role_untrusted_account_denied(emulator, customer_role):
    arn, external_id = customer_role
    with pytest.raises(ClientError) as exc:
        assume(emulator, OTHER, arn, ExternalId=external_id)
    assert f"is not authorized to perform: sts:AssumeRole on resource: {arn}" in denied(exc)


def test_assume_role_of_specific_principals(emulator):
    iam = client_of(emulator, OTHER, "iam")
    by_id = iam.create_role(RoleName="ById", AssumeRolePolicyDocument=trust(CUSTOMER))["Role"]
    assert assume(emulator, CUSTOMER, by_id["Arn"])["Credentials"]["AccessKeyId"]
    by_user = iam.create_role(RoleName="ByUser", AssumeRolePolicyDocument=trust(
        [f"arn:aws:iam::{CUSTOMER}:user/someone-else"]))["Role"]
    with pytest.raises(ClientError) as exc:
        assume(emulator, CUSTOMER, by_user["Arn"])
    denied(exc)


def test_assume_role_needs_existing_role(emulator):
    with pytest.raises(ClientError) as exc:
        assume(emulator, "123456789012", f"arn:aws:iam::{CUSTOMER}:role/DoesNotExist")
    denied(exc)


def test_organization_account_access_role_is_implicit(emulator):
    for account in ("444455556666", "123456789012"):
        arn = f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        creds = assume(emulator, "123456789012", arn)["Credentials"]
        assert session(emulator, creds, "sts").get_caller_identity()["Account"] == account
        ddb = session(emulator, creds, "dynamodb")
        ddb.list_tables()  # unrestricted, like before
    # only for the management account
    with pytest.raises(ClientError) as exc:
        assume(emulator, OTHER, "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole")
    denied(exc)


@pytest.fixture(scope="module")
def policy_user(emulator):
    """An IAM user in the default account holding the trackses policy document."""
    iam = emulator.client("iam", REGION)
    iam.create_user(UserName="trackses-app")
    iam.put_user_policy(UserName="trackses-app", PolicyName="trackses",
                        PolicyDocument=POLICY.read_text())
    key = iam.create_access_key(UserName="trackses-app")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA")
    return key


def user_client(emulator, key, service):
    return emulator.client(service, REGION, key["AccessKeyId"], key["SecretAccessKey"])


def test_iam_user_policy_is_enforced(emulator, policy_user):
    sesv2 = user_client(emulator, policy_user, "sesv2")
    sns = user_client(emulator, policy_user, "sns")
    user_arn = "arn:aws:iam::123456789012:user/trackses-app"

    assert "EmailIdentities" in sesv2.list_email_identities()
    sesv2.create_configuration_set(ConfigurationSetName="trackses-user")
    sesv2.delete_configuration_set(ConfigurationSetName="trackses-user")
    topic = sns.create_topic(Name="trackses-x")["TopicArn"]
    assert topic == f"arn:aws:sns:{REGION}:123456789012:trackses-x"
    sns.get_topic_attributes(TopicArn=topic)

    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name="other-topic")
    assert denied(exc, "AuthorizationError") == (
        f"User: {user_arn} is not authorized to perform: SNS:CreateTopic on resource: "
        f"arn:aws:sns:{REGION}:123456789012:other-topic"
    )
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=topic, Message="not allowed")
    denied(exc, "AuthorizationError")
    with pytest.raises(ClientError) as exc:
        sesv2.send_email(FromEmailAddress="a@example.com",
                         Destination={"ToAddresses": ["b@example.com"]},
                         Content={"Simple": {"Subject": {"Data": "s"},
                                             "Body": {"Text": {"Data": "b"}}}})
    assert denied(exc, "AccessDeniedException").startswith(
        f"User: {user_arn} is not authorized to perform: ses:SendEmail")
    with pytest.raises(ClientError) as exc:
        user_client(emulator, policy_user, "ses").send_email(
            Source="a@example.com", Destination={"ToAddresses": ["b@example.com"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
    denied(exc)
    with pytest.raises(ClientError) as exc:
        user_client(emulator, policy_user, "sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/OrganizationAccountAccessRole",
            RoleSessionName="user")
    denied(exc)
    # GetCallerIdentity is always allowed; the default credentials stay unrestricted
    assert user_client(emulator, policy_user, "sts").get_caller_identity()["Arn"] == user_arn
    emulator.client("sns", REGION).create_topic(Name="other-topic")


def test_iam_user_wrong_secret_rejected(emulator, policy_user):
    bad = dict(policy_user, SecretAccessKey="not-the-secret")
    with pytest.raises(ClientError) as exc:
        user_client(emulator, bad, "sns").create_topic(Name="trackses-y")
    assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
