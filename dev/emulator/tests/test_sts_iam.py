"""STS trust policies and IAM identity policies, as AWS documents them: AssumeRole needs a role
whose trust policy allows the caller (and the right sts:ExternalId), except the implicit
OrganizationAccountAccessRole; an IAM user's key and a customer role's session may only do what
their policies allow, on the resources the Service Authorization Reference says each action is
authorized against (for SES v2: configuration-set and identity ARNs)."""

import json
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

REGION = "eu-central-1"
CUSTOMER = "210987654321"  # the account trackses is given access to
OTHER = "333333333333"  # an account the role does not trust
# The policy trackses asks customers to grant (access key and role alike): the one source.
POLICY = Path(__file__).resolve().parents[3] / "docs" / "customer-iam-policy.json"
FOREIGN_SET = "production"  # a customer's own configuration set, never trackses'


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
    external id and holding the customer policy, created with the customer account's
    credentials (as cloudformation/customer-role.yaml makes it)."""
    iam = client_of(emulator, CUSTOMER, "iam")
    external_id = uuid.uuid4().hex
    role = iam.create_role(RoleName="TrackSesAccess",
                           AssumeRolePolicyDocument=trust("arn:aws:iam::123456789012:root",
                                                          external_id))["Role"]
    assert role["Arn"] == f"arn:aws:iam::{CUSTOMER}:role/TrackSesAccess"
    iam.put_role_policy(RoleName="TrackSesAccess", PolicyName="trackses",
                        PolicyDocument=POLICY.read_text())
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


# --- the customer policy on SES v2 resources -------------------------------------------------


def send_denied(sesv2):
    with pytest.raises(ClientError) as exc:
        sesv2.send_email(FromEmailAddress="a@example.com",
                         Destination={"ToAddresses": ["b@example.com"]},
                         Content={"Simple": {"Subject": {"Data": "s"},
                                             "Body": {"Text": {"Data": "b"}}}})
    assert "ses:SendEmail" in denied(exc, "AccessDeniedException")


def ensure_set(admin, name):
    if name not in admin.list_configuration_sets()["ConfigurationSets"]:
        admin.create_configuration_set(ConfigurationSetName=name)


def assert_trackses_sets_only(sesv2, admin, caller, suffix):
    """GIVEN a caller holding exactly the customer policy (`sesv2`) and the account's own
    credentials (`admin`): the caller lists identities, reads the account, creates, wires,
    reads and deletes trackses-* sets and points an identity at one; on a set not named
    trackses-* each of these is AccessDeniedException (HTTP 403) naming the set's ARN, and the
    set and the identity are left as they were. Per the Service Authorization Reference,
    configuration-set actions are authorized against configuration-set/<name> and
    PutEmailIdentityConfigurationSetAttributes against the identity and the set it names."""
    region = sesv2.meta.region_name
    account = caller.split(":")[4]
    ours, identity = f"trackses-{suffix}", f"sender@{suffix}.example"
    ensure_set(admin, FOREIGN_SET)
    admin.create_email_identity(EmailIdentity=identity)

    def arn(kind, name):
        return f"arn:aws:ses:{region}:{account}:{kind}/{name}"

    destination = {"Enabled": True, "MatchingEventTypes": ["SEND", "DELIVERY"],
                   "SnsDestination": {"TopicArn": f"arn:aws:sns:{region}:{account}:{ours}"}}

    # Reads without a resource ARN ("*") still work.
    listed = sesv2.list_email_identities()["EmailIdentities"]
    assert identity in [i["IdentityName"] for i in listed], listed
    assert "SendQuota" in sesv2.get_account()
    assert sesv2.get_email_identity(EmailIdentity=identity)["IdentityType"] == "EMAIL_ADDRESS"

    # trackses' own set: the whole life cycle.
    sesv2.create_configuration_set(ConfigurationSetName=ours)
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=ours, EventDestinationName="trackses-sns",
        EventDestination=destination)
    assert sesv2.get_configuration_set(ConfigurationSetName=ours)["ConfigurationSetName"] == ours
    sesv2.put_email_identity_configuration_set_attributes(EmailIdentity=identity,
                                                         ConfigurationSetName=ours)
    assert admin.get_email_identity(EmailIdentity=identity)["ConfigurationSetName"] == ours

    # The customer's own set: refused by IAM, whatever the call.
    refused = [
        ("ses:DeleteConfigurationSet", FOREIGN_SET,
         lambda: sesv2.delete_configuration_set(ConfigurationSetName=FOREIGN_SET)),
        ("ses:CreateConfigurationSetEventDestination", FOREIGN_SET,
         lambda: sesv2.create_configuration_set_event_destination(
             ConfigurationSetName=FOREIGN_SET, EventDestinationName="trackses-sns",
             EventDestination=destination)),
        ("ses:GetConfigurationSet", FOREIGN_SET,
         lambda: sesv2.get_configuration_set(ConfigurationSetName=FOREIGN_SET)),
        ("ses:PutEmailIdentityConfigurationSetAttributes", FOREIGN_SET,
         lambda: sesv2.put_email_identity_configuration_set_attributes(
             EmailIdentity=identity, ConfigurationSetName=FOREIGN_SET)),
        ("ses:CreateConfigurationSet", f"other-{suffix}",
         lambda: sesv2.create_configuration_set(ConfigurationSetName=f"other-{suffix}")),
    ]
    for action, name, call in refused:
        with pytest.raises(ClientError) as exc:
            call()
        message = denied(exc, "AccessDeniedException")
        assert message.startswith(f"User: {caller} is not authorized to perform: {action}"), \
            message
        assert f"on resource: {arn('configuration-set', name)}" in message, message
    assert admin.get_configuration_set(ConfigurationSetName=FOREIGN_SET)
    assert admin.get_configuration_set_event_destinations(
        ConfigurationSetName=FOREIGN_SET)["EventDestinations"] == []
    assert admin.get_email_identity(EmailIdentity=identity)["ConfigurationSetName"] == ours
    assert f"other-{suffix}" not in admin.list_configuration_sets()["ConfigurationSets"]
    send_denied(sesv2)

    # Detaching names no set (the identity alone is authorized); then trackses' set goes.
    sesv2.put_email_identity_configuration_set_attributes(EmailIdentity=identity)
    assert "ConfigurationSetName" not in admin.get_email_identity(EmailIdentity=identity)
    sesv2.delete_configuration_set(ConfigurationSetName=ours)
    assert ours not in admin.list_configuration_sets()["ConfigurationSets"]


def test_user_key_with_the_customer_policy_reaches_only_trackses_sets(emulator, policy_user):
    assert_trackses_sets_only(
        user_client(emulator, policy_user, "sesv2"), emulator.client("sesv2", REGION),
        "arn:aws:iam::123456789012:user/trackses-app", "user-key")


def test_assumed_role_with_the_customer_policy_reaches_only_trackses_resources(
        emulator, customer_role):
    arn, external_id = customer_role
    creds = assume(emulator, "123456789012", arn, ExternalId=external_id)["Credentials"]
    caller = f"arn:aws:sts::{CUSTOMER}:assumed-role/TrackSesAccess/trackses"
    assert_trackses_sets_only(session(emulator, creds, "sesv2"),
                              client_of(emulator, CUSTOMER, "sesv2"), caller, "role")

    sns = session(emulator, creds, "sns")
    topic = sns.create_topic(Name="trackses-role")["TopicArn"]
    sns.get_topic_attributes(TopicArn=topic)
    foreign = client_of(emulator, CUSTOMER, "sns").create_topic(Name="orders")["TopicArn"]
    for call in (lambda: sns.create_topic(Name="orders"),
                 lambda: sns.delete_topic(TopicArn=foreign),
                 lambda: sns.publish(TopicArn=topic, Message="not allowed")):
        with pytest.raises(ClientError) as exc:
            call()
        assert denied(exc, "AuthorizationError").startswith(f"User: {caller} is not authorized")
    assert foreign in [t["TopicArn"] for t in
                       client_of(emulator, CUSTOMER, "sns").list_topics()["Topics"]]
    assert session(emulator, creds, "sts").get_caller_identity()["Arn"] == caller


def test_role_without_permission_policies_may_do_nothing(emulator):
    """A role's session has only what the role's permission policies allow (its trust policy
    grants none): an empty role may not even list identities."""
    iam = client_of(emulator, CUSTOMER, "iam")
    iam.create_role(RoleName="TrustOnly",
                    AssumeRolePolicyDocument=trust("arn:aws:iam::123456789012:root"))
    creds = assume(emulator, "123456789012",
                   f"arn:aws:iam::{CUSTOMER}:role/TrustOnly")["Credentials"]
    with pytest.raises(ClientError) as exc:
        session(emulator, creds, "sesv2").list_email_identities()
    assert "ses:ListEmailIdentities" in denied(exc, "AccessDeniedException")
    with pytest.raises(ClientError) as exc:
        session(emulator, creds, "sns").create_topic(Name="trackses-empty")
    denied(exc, "AuthorizationError")
    session(emulator, creds, "sts").get_caller_identity()  # always allowed


def test_trackses_own_and_organization_sessions_stay_unrestricted(emulator):
    """Roles of the management account (trackses' own, 123456789012) and the implicit
    OrganizationAccountAccessRole keep acting without policies, as the emulator always let them."""
    emulator.client("iam", REGION).create_role(
        RoleName="TrackSesOwn", AssumeRolePolicyDocument=trust("123456789012"))
    for arn in ("arn:aws:iam::123456789012:role/TrackSesOwn",
                f"arn:aws:iam::{OTHER}:role/OrganizationAccountAccessRole"):
        creds = assume(emulator, "123456789012", arn)["Credentials"]
        sesv2 = session(emulator, creds, "sesv2")
        sesv2.create_configuration_set(ConfigurationSetName=FOREIGN_SET + "-unrestricted")
        sesv2.delete_configuration_set(ConfigurationSetName=FOREIGN_SET + "-unrestricted")
        session(emulator, creds, "sns").create_topic(Name="orders-unrestricted")
