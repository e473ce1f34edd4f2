"""Item: access reviews. `can I?` through the typed AuthorizationV1Api, and the
SelfSubjectReview (newer than this client) through its transport.

Args: <kubeconfig> <control-url>. Prints what the server answered."""
import json

from kubernetes import client

from knm_sim import api_client, emit

api = api_client()
auth = client.AuthorizationV1Api(api)
access = auth.create_self_subject_access_review(
    client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb="patch", resource="nodes")
        )
    )
)
rules = auth.create_self_subject_rules_review(
    client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace="default"))
)
response = api.call_api(
    "/apis/authentication.k8s.io/v1/selfsubjectreviews", "POST",
    body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    header_params={"Content-Type": "application/json", "Accept": "application/json"},
    auth_settings=["BearerToken"], _preload_content=False,
)[0]
emit(
    {
        "allowed": access.status.allowed,
        "resource": access.spec.resource_attributes.resource,
        "rules": [{"verbs": r.verbs, "resources": r.resources} for r in rules.status.resource_rules],
        "user": json.loads(response.data)["status"]["userInfo"],
    }
)
