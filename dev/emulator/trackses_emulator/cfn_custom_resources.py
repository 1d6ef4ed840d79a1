"""SNS-backed CloudFormation custom resources, which moto 5.2.5 lacks (it only invokes Lambda
ServiceTokens for `Custom::*`, and skips `AWS::CloudFormation::CustomResource`).

For a `Custom::*` or `AWS::CloudFormation::CustomResource` whose ServiceToken is an SNS topic
ARN (in the stack's region, as AWS requires), stack create/update/delete publish CloudFormation's
custom-resource request document through moto's SNS Publish (so subscribers get the signed
deliveries of sns_patches), Subject "AWS CloudFormation custom resource request":

  {"RequestType": "Create"|"Update"|"Delete", "ServiceToken", "ResponseURL", "StackId",
   "RequestId", "LogicalResourceId", "PhysicalResourceId" (Update, Delete), "ResourceType",
   "ResourceProperties", "OldResourceProperties" (Update)}

Like AWS, ResourceProperties include ServiceToken and carry scalars as strings (true -> "true").
Other ServiceTokens keep moto's Lambda behaviour.

The ResponseURL is the emulator's (unsigned, emulator-only):
  PUT /_trackses/cloudformation/responses/<RequestId>  the provider's answer; 200 (as S3 answers a
                                                       pre-signed PUT), 404 for unknown ids
  GET /_trackses/cloudformation/responses              every answer, oldest first:
      {"request_id", "request_type", "logical_resource_id", "time", "response": <body, parsed
       when JSON>, "problem": why CloudFormation would reject the answer, or null}

A stack waits for the answer to a Create, like AWS (without its timeout): it stays
CREATE_IN_PROGRESS until a valid SUCCESS arrives, then becomes CREATE_COMPLETE; FAILED or an
invalid answer makes it CREATE_FAILED (no rollback). moto creates stacks synchronously, so the
wait never blocks CreateStack: the answer settles the stack from a background thread, after the
creation finished (a provider may answer while its SNS delivery is still in progress). Update
and Delete complete at once, as moto does them; their answers are only recorded and checked.

A test can also act as CloudFormation with a hand-made document (unsigned, emulator-only):
  POST /_trackses/cloudformation/requests  body: a request document (RequestType Create, Update or
      Delete, ServiceToken an existing topic, StackId, RequestId not used before,
      LogicalResourceId, ResourceType, ResourceProperties); its ResponseURL is replaced by the
      emulator's and it is published like a stack's -> 200 {"ResponseURL", "RequestId"}, else
      400 {"message"}. Its answer is recorded and checked as above; there is no stack to settle.
"""

import json
import re
import threading
import uuid
from datetime import datetime, timezone
from urllib.parse import quote

from moto.cloudformation import cloudformation_backends, parsing
from moto.cloudformation import urls as cfn_urls
from moto.cloudformation.custom_model import CustomModel
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Stack
from moto.core.common_models import CloudFormationModel
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sns.models import sns_backends

PATH = "/_trackses/cloudformation/responses"
REQUESTS_PATH = "/_trackses/cloudformation/requests"
REQUEST_KEYS = ("RequestType", "ServiceToken", "StackId", "RequestId", "LogicalResourceId",
                "ResourceType", "ResourceProperties")
SUBJECT = "AWS CloudFormation custom resource request"
GENERIC_TYPE = "AWS::CloudFormation::CustomResource"
MAX_RESPONSE_BYTES = 4096  # AWS's limit for the whole answer
MAX_PHYSICAL_ID_BYTES = 1024

_SNS_ARN = re.compile(r"arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):[\w-]+")

_base_url = "http://127.0.0.1:4566"
# RequestId -> (resource, request); no resource for a request POSTed to REQUESTS_PATH
_requests: dict[str, tuple["SNSCustomResource | None", dict]] = {}
_responses: list[dict] = []
_state_lock = threading.Lock()  # _requests, _responses
# Held while moto creates a stack, so an answer settles the stack only once creation is done
# (re-entrant: nested stacks are created inside their parent's creation).
_creation_lock = threading.RLock()
_orig: dict = {}


def _cfn_strings(value):
    """Properties as CloudFormation sends them to providers: every scalar a string, and no
    property that `!Ref AWS::NoValue` removed (moto resolves it to None)."""
    if isinstance(value, dict):
        return {k: _cfn_strings(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_cfn_strings(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


class SNSCustomResource(CloudFormationModel):
    def __init__(self, stack: Stack, logical_id: str, resource_type: str, properties: dict,
                 resource_name: str):
        self.stack = stack
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.properties = properties
        self.resource_name = resource_name  # moto's generated name, until the provider names it
        self.provider_id: str | None = None  # the answered PhysicalResourceId
        self.data: dict = {}
        self.created = False

    @property
    def physical_resource_id(self) -> str:
        return self.provider_id or self.resource_name

    @staticmethod
    def cloudformation_type() -> str:
        return GENERIC_TYPE

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True  # any key of the answer's Data

    def get_cfn_attribute(self, attribute_name: str):
        return self.data.get(attribute_name)

    def is_created(self) -> bool:
        return self.created

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        token = props.get("ServiceToken")
        if not _SNS_ARN.fullmatch(str(token)):
            return CustomModel.create_from_cloudformation_json(
                resource_name, cloudformation_json, account_id, region_name, **kwargs)
        if token.split(":")[3] != region_name:
            raise ValidationError(message=f"Invalid service token: {token} is not in {region_name}")
        stack = cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"])
        resource = cls(stack, kwargs["LogicalId"], kwargs["ResourceType"], _cfn_strings(props),
                       resource_name)
        resource.send("Create")
        return resource

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        if not isinstance(original_resource, cls):  # Lambda-backed: moto does not update those
            return original_resource
        new = _cfn_strings(cloudformation_json["Properties"])
        if new.get("ServiceToken") != original_resource.properties.get("ServiceToken"):
            raise ValidationError(message="Modifying service token is not allowed.")
        old, original_resource.properties = original_resource.properties, new
        original_resource.send("Update", old_properties=old)
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        self.send("Delete")

    def send(self, request_type: str, old_properties: dict | None = None) -> None:
        token = self.properties["ServiceToken"]
        request_id = str(uuid.uuid4())
        request = {
            "RequestType": request_type,
            "ServiceToken": token,
            "ResponseURL": f"{_base_url}{PATH}/{request_id}",
            "StackId": self.stack.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": self.logical_id,
        }
        if request_type != "Create":
            request["PhysicalResourceId"] = self.physical_resource_id
        request["ResourceType"] = self.resource_type
        request["ResourceProperties"] = self.properties
        if old_properties is not None:
            request["OldResourceProperties"] = old_properties
        with _state_lock:
            _requests[request_id] = (self, request)
        region, account = token.split(":")[3:5]
        sns_backends[account][region].publish(json.dumps(request), arn=token, subject=SUBJECT)

    def answered(self, request: dict, response, problem: str | None) -> None:
        """Apply the first answer to a request (AWS reads one answer per request)."""
        if problem is None and response["Status"] == "SUCCESS":
            self.provider_id = response["PhysicalResourceId"]
            self.data = response.get("Data") or {}
        if request["RequestType"] != "Create":
            return
        if problem is None and response["Status"] == "SUCCESS":
            self.created = True
            reason = None
        else:
            reason = problem or response.get("Reason")
        threading.Thread(target=self.settle, args=(reason,), daemon=True).start()

    def settle(self, failure: str | None) -> None:
        with _creation_lock:
            if self.stack.status != "CREATE_IN_PROGRESS":
                return  # settled by moto's own end-of-creation check, or deleted meanwhile
            if failure is None:
                self.stack.verify_readiness()
            else:
                self.stack.status = "CREATE_FAILED"
                self.stack._add_stack_event(
                    "CREATE_FAILED",
                    resource_status_reason=f"The following resource(s) failed to create: "
                                           f"[{self.logical_id}]. {failure}")


def problem_with(request: dict, body: bytes):
    """(parsed answer, why CloudFormation would reject it or None)."""
    if len(body) > MAX_RESPONSE_BYTES:
        return body.decode("utf-8", "replace"), "Response object is too long."
    try:
        response = json.loads(body)
    except ValueError:
        response = None
    if not isinstance(response, dict):
        return body.decode("utf-8", "replace"), "Invalid response object: not a JSON object"
    if response.get("Status") not in ("SUCCESS", "FAILED"):
        return response, "Invalid response object: Status must be SUCCESS or FAILED"
    if response["Status"] == "FAILED" and not response.get("Reason"):
        return response, "Invalid response object: Reason is required when Status is FAILED"
    physical = response.get("PhysicalResourceId")
    if not isinstance(physical, str) or not physical:
        return response, "Invalid PhysicalResourceId"
    if len(physical.encode("utf-8")) > MAX_PHYSICAL_ID_BYTES:
        return response, "PhysicalResourceId is too long"
    for key in ("StackId", "RequestId", "LogicalResourceId"):
        if response.get(key) != request[key]:
            return response, f"Invalid response object: {key} does not match the request"
    if "Data" in response and not isinstance(response["Data"], dict):
        return response, "Invalid response object: Data must be a JSON object"
    return response, None


# --- the ResponseURL endpoint --------------------------------------------------------


def _json(status: int, value):
    return status, {"Content-Type": "application/json"}, json.dumps(value)


def _responses_endpoint(request, full_url, headers):
    path = request.path.rstrip("/")
    if path == PATH and request.method == "GET":
        with _state_lock:
            return _json(200, list(_responses))
    request_id = path.removeprefix(PATH + "/")
    if request.method != "PUT" or "/" in request_id:
        return _json(405, {"message": f"GET {PATH} or PUT {PATH}/<RequestId>"})
    with _state_lock:
        found = _requests.get(request_id)
        if found is None:
            return _json(404, {"message": f"no custom resource request {request_id}"})
        resource, sent = found
        first = not any(r["request_id"] == request_id for r in _responses)
        response, problem = problem_with(sent, request.get_data())
        _responses.append({
            "request_id": request_id,
            "request_type": sent["RequestType"],
            "logical_resource_id": sent["LogicalResourceId"],
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "response": response,
            "problem": problem,
        })
    if first and resource is not None:
        resource.answered(sent, response, problem)
    return 200, {}, ""


def _requests_endpoint(request, full_url, headers):
    if request.method != "POST":
        return _json(405, {"message": f"POST {REQUESTS_PATH}"})
    try:
        document = json.loads(request.get_data())
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return _json(400, {"message": "the body must be a JSON object"})
    missing = [key for key in REQUEST_KEYS if key not in document]
    if missing:
        return _json(400, {"message": f"missing {', '.join(missing)}"})
    if document["RequestType"] not in ("Create", "Update", "Delete"):
        return _json(400, {"message": "RequestType must be Create, Update or Delete"})
    token, request_id = document["ServiceToken"], document["RequestId"]
    if not isinstance(token, str) or not _SNS_ARN.fullmatch(token):
        return _json(400, {"message": f"ServiceToken is not an SNS topic ARN: {token!r}"})
    region, account = token.split(":")[3:5]
    try:
        backend = sns_backends[account][region]
    except KeyError:  # moto knows no such region
        backend = None
    if backend is None or token not in backend.topics:
        return _json(400, {"message": f"no SNS topic {token}"})
    # A "/" could not be routed back to the responses endpoint.
    if not isinstance(request_id, str) or not request_id or "/" in request_id:
        return _json(400, {"message": "RequestId must be a non-empty string without /"})
    url = f"{_base_url}{PATH}/{quote(request_id, safe='')}"
    if "ResponseURL" in document:
        document["ResponseURL"] = url
    else:  # where CloudFormation puts it
        items = list(document.items())
        at = list(document).index("ServiceToken") + 1
        document = dict(items[:at] + [("ResponseURL", url)] + items[at:])
    with _state_lock:
        if request_id in _requests:
            return _json(400, {"message": f"RequestId {request_id} was already used"})
        _requests[request_id] = (None, document)
    # Registered first: a provider may answer while its delivery is still in progress.
    backend.publish(json.dumps(document), arn=token, subject=SUBJECT)
    return _json(200, {"ResponseURL": url, "RequestId": request_id})


def _infer_service_region_host(self, environ, path):
    """The ResponseURL and the requests endpoint are unsigned: route them to the CloudFormation
    app, which serves them."""
    if path.startswith((PATH, REQUESTS_PATH)) and not environ.get("HTTP_AUTHORIZATION"):
        return "cloudformation"
    return _orig["infer_service_region_host"](self, environ, path)


# --- entry point ---------------------------------------------------------------------


def _resource_class_from_type(resource_type: str):
    if resource_type.startswith("Custom::"):
        return SNSCustomResource  # which hands Lambda ServiceTokens back to moto's CustomModel
    return _orig["resource_class_from_type"](resource_type)


def _create_resources(self) -> None:
    with _creation_lock:
        _orig["create_resources"](self)


def apply(base_url: str) -> None:
    global _base_url
    if _orig:
        return
    _base_url = base_url.rstrip("/")
    _orig["resource_class_from_type"] = parsing.resource_class_from_type
    parsing.resource_class_from_type = _resource_class_from_type
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()  # moto found models through __subclasses__() before this one existed
    _orig["create_resources"] = Stack.create_resources
    Stack.create_resources = _create_resources
    cfn_urls.url_paths["{0}" + PATH + "$"] = _responses_endpoint
    cfn_urls.url_paths["{0}" + PATH + "/(?P<request_id>[^/]+)$"] = _responses_endpoint
    cfn_urls.url_paths["{0}" + REQUESTS_PATH + "$"] = _requests_endpoint
    _orig["infer_service_region_host"] = DomainDispatcherApplication.infer_service_region_host
    DomainDispatcherApplication.infer_service_region_host = _infer_service_region_host
