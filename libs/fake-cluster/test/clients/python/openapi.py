"""Item: OpenAPI v3 and server-side field validation, through the client's transport:
the index, the core/v1 document's Node schema, and a Strict create refused.

Args: <kubeconfig> <control-url>. Prints what was found."""
import json

from kubernetes.client.exceptions import ApiException

from knm_sim import api_client, emit, raw_get

api = api_client()
status, index = raw_get(api, "/openapi/v3", [])
url = index["paths"]["api/v1"]["serverRelativeURL"]
path, _, query = url.partition("?")
status, document = raw_get(api, path, [tuple(query.split("=", 1))])
node = document["components"]["schemas"]["io.k8s.api.core.v1.Node"]
try:
    api.call_api(
        "/api/v1/namespaces", "POST", query_params=[("fieldValidation", "Strict")],
        body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "py", "labelz": {"a": "b"}}},
        header_params={"Content-Type": "application/json", "Accept": "application/json"},
        auth_settings=["BearerToken"], _preload_content=False,
    )
    refused = None
except ApiException as err:
    refused = {"status": err.status, "message": json.loads(err.body)["message"]}
emit(
    {
        "groupVersions": sorted(index["paths"]),
        "nodeKind": node["x-kubernetes-group-version-kind"],
        "nodeFields": sorted(node["properties"]),
        "refused": refused,
    }
)
