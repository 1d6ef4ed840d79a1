"""SESv2 is REST-JSON: which operation a method and path name. moto 5.2.5 knows the paths of an
older botocore model; current SDKs (the Rust SDK among them) use these, so the request log, the
IAM checks and moto's own dispatch all resolve operations here first."""

import re

# SESv2 is REST-JSON: method + path -> operation (both the older and the newer SDK paths).
ROUTES = [(method, re.compile(path), op) for method, path, op in [
    ("GET", r"/v2/email/identities", "ListEmailIdentities"),
    ("POST", r"/v2/email/identities", "CreateEmailIdentity"),
    ("POST", r"/v2/email/list-identities", "ListEmailIdentities"),
    ("GET", r"/v2/email/identities/(?P<EmailIdentity>[^/]+)", "GetEmailIdentity"),
    ("PUT", r"/v2/email/identities/(?P<EmailIdentity>[^/]+)/configuration-set",
     "PutEmailIdentityConfigurationSetAttributes"),
    ("GET", r"/v2/email/configuration-sets", "ListConfigurationSets"),
    ("POST", r"/v2/email/list-configuration-sets", "ListConfigurationSets"),
    ("POST", r"/v2/email/configuration-sets", "CreateConfigurationSet"),
    ("GET", r"/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)", "GetConfigurationSet"),
    ("DELETE", r"/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)",
     "DeleteConfigurationSet"),
    ("POST", r"/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/event-destinations",
     "CreateConfigurationSetEventDestination"),
    ("GET", r"/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/event-destinations",
     "GetConfigurationSetEventDestinations"),
    ("POST", r"/v2/email/outbound-emails", "SendEmail"),
    ("GET", r"/v2/email/account", "GetAccount"),
    ("PUT", r"/v2/email/account/sending", "PutAccountSendingAttributes"),
]]


def operation(method: str, path: str):
    """(operation, path parameters) of a SESv2 request, or None."""
    for verb, pattern, op in ROUTES:
        match = pattern.fullmatch(path)
        if verb == method and match:
            return op, match.groupdict()
    return None
