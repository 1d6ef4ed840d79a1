"""Monkeypatches that make moto 5.2.5's STS and IAM enforce permissions like AWS, where the
trackses tests need it.

- sts:AssumeRole honours the role's trust policy: the role must exist in the target account,
  a statement must allow sts:AssumeRole for the caller (account id, account root ARN, user or
  role ARN, "*") and its Condition (StringEquals/StringLike/... on sts:ExternalId,
  aws:PrincipalAccount, aws:PrincipalArn) must hold; otherwise AccessDenied (HTTP 403).
  Like AWS Organizations, every account has an implicit OrganizationAccountAccessRole that
  callers of the management account (moto's default account 123456789012) may assume.
- Requests signed with the access key of an IAM user created in the emulator, or with a
  session of a role that exists in IAM in an account other than the management account (the
  customer accounts' roles), are checked against that user's or role's policies (moto's
  IAMRequest and AssumedRoleAccessKey: inline and attached policies) for ENFORCED_SERVICES.
  SNS requests are checked against the topic ARN; SES v2 requests against the ARN of every
  resource AWS authorizes them on (the Service Authorization Reference's resource types):
  configuration-set/<name> and identity/<name> named in the path, the ConfigurationSetName of
  CreateConfigurationSet, and the set an identity is pointed at by
  PutEmailIdentityConfigurationSetAttributes (its optional configuration-set resource). Each
  must be allowed; a denial names the first that is not. The default credentials, sessions of
  roles in the management account (trackses' own) and of the implicit
  OrganizationAccountAccessRole (an administrator, as AWS Organizations creates it) stay
  unrestricted.
"""

import json
import re
import uuid
from urllib.parse import unquote

import xmltodict

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError, _RESTError
from moto.iam.access_control import IAMRequest
from moto.iam.exceptions import NotFoundException
from moto.iam.models import get_account_id_from, iam_backends
from moto.sts.models import sts_backends
from moto.sts.responses import TokenResponse
from moto.utilities.utils import get_partition

ENFORCED_SERVICES = {"ses", "sns", "sts"}  # SigV4 signing names (SESv2 signs as "ses")
# SES v2 paths that name one resource: /v2/email/<collection>/<name>[/...]
_SESV2_RESOURCE = re.compile(r"/v2/email/(configuration-sets|identities)/([^/]+)(?:/.*)?")
_SESV2_RESOURCE_TYPES = {"configuration-sets": "configuration-set", "identities": "identity"}
# Operations whose JSON body's ConfigurationSetName is a resource they are authorized on.
_SESV2_BODY_SET = {"CreateConfigurationSet", "PutEmailIdentityConfigurationSetAttributes"}
ORGANIZATION_ROLE = "OrganizationAccountAccessRole"
MANAGEMENT_ACCOUNT = DEFAULT_ACCOUNT_ID

_ROLE_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[^/]+/)*([\w+=,.@-]+)")
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
_orig: dict = {}


class AccessDenied(_RESTError):
    """Shaped as the query protocol (STS, SNS, IAM) answers: one <Error> directly under
    <ErrorResponse>, which SDKs parse (moto's <Errors><Error> wrapper leaves them without a code)."""

    code = 403

    def __init__(self, message: str, error_type: str = "AccessDenied"):
        super().__init__(error_type, message)
        self.description = xmltodict.unparse(
            {"ErrorResponse": {
                "Error": {"Type": "Sender", "Code": error_type, "Message": message},
                "RequestId": str(uuid.uuid4()),
            }},
            full_document=True,
        )


class JsonAccessDenied(JsonRESTError):
    code = 403


# --- identities --------------------------------------------------------------------


def caller_identity(access_key_id: str, region: str = "us-east-1", account: str | None = None):
    """(account, ARN) of the caller, as sts:GetCallerIdentity reports it; `account` is the
    request's account for keys moto does not know (x-moto-account-id, default 123456789012)."""
    account = account or get_account_id_from(access_key_id)
    _, arn, account = sts_backends[account][get_partition(region)].get_caller_identity(
        access_key_id, region
    )
    return account, arn


def is_iam_user_key(access_key_id: str, partition: str = "aws") -> bool:
    """True for access keys made by iam:CreateAccessKey in the emulator."""
    if not access_key_id.startswith("AKIA"):
        return False
    account = get_account_id_from(access_key_id)
    return iam_backends[account][partition].get_user_from_access_key_id(access_key_id) is not None


def is_customer_role_session(access_key_id: str, partition: str = "aws") -> bool:
    """True for sts:AssumeRole sessions of a role created in IAM in an account other than the
    management account: what trackses is given by a customer, whose policies AWS enforces.
    The implicit OrganizationAccountAccessRole exists in no IAM backend, so it stays what AWS
    Organizations makes it, an administrator; so do roles of 123456789012 (trackses' own)."""
    if not access_key_id.startswith("ASIA"):
        return False
    account = get_account_id_from(access_key_id)
    if account == MANAGEMENT_ACCOUNT:
        return False
    session = sts_backends[account][partition].get_assumed_role_from_access_key(access_key_id)
    if session is None:
        return False
    try:
        iam_backends[account][partition].get_role_by_arn(session.role_arn)
    except NotFoundException:
        return False
    return True


def is_enforced_key(access_key_id: str, partition: str = "aws") -> bool:
    return (is_iam_user_key(access_key_id, partition)
            or is_customer_role_session(access_key_id, partition))


# --- trust policies ----------------------------------------------------------------


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _like(pattern: str, value: str) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _condition_holds(operator: str, expected: list, actual) -> bool:
    if operator == "Null":
        return (actual is None) == (str(expected[0]).lower() == "true")
    base = operator.removesuffix("IfExists")
    if actual is None:
        return operator.endswith("IfExists") or base.startswith(("StringNot", "ArnNot"))
    tests = {
        "StringEquals": lambda e: e == actual,
        "StringNotEquals": lambda e: e != actual,
        "StringEqualsIgnoreCase": lambda e: e.lower() == actual.lower(),
        "StringLike": lambda e: _like(e, actual),
        "StringNotLike": lambda e: not _like(e, actual),
        # ARNs compare like strings, wildcards allowed in both (IAM's ArnEquals and ArnLike
        # are the same operator).
        "ArnEquals": lambda e: _like(e, actual),
        "ArnLike": lambda e: _like(e, actual),
        "ArnNotEquals": lambda e: not _like(e, actual),
        "ArnNotLike": lambda e: not _like(e, actual),
    }
    test = tests.get(base)
    if test is None:  # unsupported operator: never grant access through it
        return False
    values = [str(e) for e in expected]
    return all(map(test, values)) if "Not" in base else any(map(test, values))


def _principal_matches(principal, account: str, arns: set[str]) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _as_list(principal.get("AWS", [])):
        if value == "*" or value in arns:
            return True
        if value == account or re.fullmatch(rf"arn:aws[a-z-]*:iam::{account}:root", value):
            return True
    return False


def policy_allows(policy: dict, action: str, principal_matches, context: dict,
                  resource: str | None = None) -> bool:
    """Whether a policy's statements allow `action` (an explicit Deny wins): the statement's
    Action matches, its Principal satisfies `principal_matches`, every Condition holds for
    `context`, and, for resource policies (`resource` given), its Resource matches."""
    context = {k.lower(): v for k, v in context.items() if v is not None}
    allowed = False
    for statement in _as_list(policy.get("Statement", [])):
        actions = _as_list(statement.get("Action", []))
        if not any(_like(a.lower(), action.lower()) for a in actions):
            continue
        if resource is not None and not any(
                _like(r, resource) for r in _as_list(statement.get("Resource", "*"))):
            continue
        if not principal_matches(statement.get("Principal")):
            continue
        conditions = statement.get("Condition", {})
        if not all(
            _condition_holds(op, _as_list(expected), context.get(key.lower()))
            for op, pairs in conditions.items()
            for key, expected in pairs.items()
        ):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def trust_allows(policy: dict, account: str, caller_arn: str, context: dict) -> bool:
    """Evaluate a role trust policy for sts:AssumeRole by (account, caller_arn)."""
    arns = {caller_arn}
    session = re.fullmatch(r"arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/.*", caller_arn)
    if session:  # a role session is also matched by its role's ARN
        arns.add(f"arn:{session[1]}:iam::{session[2]}:role/{session[3]}")
    return policy_allows(policy, "sts:AssumeRole",
                         lambda principal: _principal_matches(principal, account, arns), context)


def service_principal_matches(principal, service: str) -> bool:
    """Whether a statement's Principal names the AWS service `service` (or everyone)."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return "*" in _as_list(principal.get("AWS", [])) \
        or service in _as_list(principal.get("Service", []))


def account_principal_matches(principal, account: str) -> bool:
    """Whether a statement's Principal grants `account` (its id, its root, or everyone)."""
    return _principal_matches(principal, account, set())


def check_assume_role(role_arn: str, access_key_id: str, external_id, region: str,
                      account: str) -> None:
    account, caller_arn = caller_identity(access_key_id, region, account)
    denied = AccessDenied(
        f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )
    match = _ROLE_ARN.fullmatch(role_arn or "")
    if not match:
        raise denied
    partition, role_account, _ = match.groups()
    try:
        role = iam_backends[role_account][partition].get_role_by_arn(role_arn)
    except NotFoundException:
        implicit = f"arn:{partition}:iam::{role_account}:role/{ORGANIZATION_ROLE}"
        if role_arn == implicit and account == MANAGEMENT_ACCOUNT:
            return
        raise denied
    policy = role.assume_role_policy_document
    policy = json.loads(policy) if isinstance(policy, str) else policy
    context = {"sts:ExternalId": external_id, "aws:PrincipalAccount": account,
               "aws:PrincipalArn": caller_arn}
    if not trust_allows(policy, account, caller_arn, context):
        raise denied


def _response_assume_role(self):
    check_assume_role(self._get_param("RoleArn"), self.get_access_key(),
                      self._get_param("ExternalId"), self.region, self.current_account)
    return _orig["assume_role"](self)


# --- identity policies of IAM users and customer roles -----------------------------


class PolicyRequest(IAMRequest):
    """moto's IAMRequest (an IAM user's key or an assumed role's session, by the key and the
    X-Amz-Security-Token header), with AWS-shaped denials naming the resource."""

    resource = "*"

    def check_action_permitted(self, resource: str) -> None:
        self.resource = resource
        super().check_action_permitted(resource)

    def _is_assuming_role_operation(self, resource_arn: str) -> bool:
        return False  # the trust policy is checked by _response_assume_role, for every caller

    def _create_aws_request(self):
        if not self._body and self._method in ("GET", "HEAD", "DELETE"):
            # sign the empty payload, not moto's fallback (query parameters or headers)
            self._data = {}
        return super()._create_aws_request()

    def _raise_access_denied(self) -> None:
        user = self._access_key.arn
        if self._service == "sns":
            action = "SNS:" + self._action.split(":", 1)[1]
            raise AccessDenied(f"User: {user} is not authorized to perform: {action} "
                               f"on resource: {self.resource}", "AuthorizationError")
        message = f"User: {user} is not authorized to perform: {self._action}"
        if self.resource != "*":
            message += f" on resource: {self.resource}"
        if self._path.startswith("/v2/"):  # REST-JSON (SESv2)
            raise JsonAccessDenied("AccessDeniedException", message)
        raise AccessDenied(message)


def _sns_resource(response, default: str) -> str:
    params = response.querystring
    for key in ("TopicArn", "TargetArn", "ResourceArn"):
        if params.get(key):
            return params[key][0]
    if response._get_action() == "CreateTopic" and params.get("Name"):
        return (f"arn:{response.partition}:sns:{response.region}:"
                f"{response.current_account}:{params['Name'][0]}")
    return default


def _json_body(response) -> dict:
    try:
        body = json.loads(response.body or "{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _sesv2_resources(response, default: str) -> list[str]:
    """The SES v2 resource ARNs a request is authorized against, as the Service Authorization
    Reference lists them: the configuration set or identity its path names, and the set named in
    the body of CreateConfigurationSet (configuration-set*) and of
    PutEmailIdentityConfigurationSetAttributes (identity* plus its optional configuration-set,
    present when the request names one). List and account operations have none: "*"."""
    prefix = (f"arn:{response.partition}:ses:{response.region}:"
              f"{response.current_account}")
    arns = []
    named = _SESV2_RESOURCE.fullmatch(response.path)
    if named:
        arns.append(f"{prefix}:{_SESV2_RESOURCE_TYPES[named[1]]}/{unquote(named[2])}")
    if response._get_action() in _SESV2_BODY_SET:
        name = _json_body(response).get("ConfigurationSetName")
        if isinstance(name, str) and name:
            arns.append(f"{prefix}:configuration-set/{name}")
    return arns or [default]


def _resources(response, service: str, default: str) -> list[str]:
    if service == "sns":
        return [_sns_resource(response, default)]
    if service == "ses" and response.path.startswith("/v2/"):
        return _sesv2_resources(response, default)
    return [default]


def _authorize(self, resource: str = "*") -> None:
    credential = _CREDENTIAL.search(self.headers.get("Authorization") or "")
    if credential is None or credential[3] not in ENFORCED_SERVICES \
            or not is_enforced_key(credential[1], self.partition):
        return _orig["authorize"](self, resource)
    path = self.raw_path + (f"?{self.parsed_url.query}" if self.parsed_url.query else "")
    request = PolicyRequest(
        account_id=self.current_account, method=self.method, path=path, data=self.data,
        body=self.raw_body, headers=self.headers, action=self._get_action(),
    )
    request.check_signature()
    for arn in _resources(self, credential[3], resource):
        request.check_action_permitted(arn)  # every resource must be allowed


# --- entry point -------------------------------------------------------------------


def apply() -> None:
    if _orig:
        return
    _orig["assume_role"] = TokenResponse.assume_role
    TokenResponse.assume_role = _response_assume_role
    _orig["authorize"] = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = _authorize
