"""Item: server-side apply of a node (application/apply-patch+yaml through the
client's transport): a conflict with the label manager, then force.

Args: <kubeconfig> <control-url> <node-name>. Prints the outcomes."""
import json
import sys

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from knm_sim import api_client, emit

name = sys.argv[3]
api = api_client()
v1 = client.CoreV1Api(api)
v1.patch_node(name, {"metadata": {"labels": {"env": "prod"}}}, field_manager="py-label")
config = json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"env": "staging"}}})


def apply(force):
    response = api.call_api(
        "/api/v1/nodes/" + name, "PATCH",
        query_params=[("fieldManager", "py-apply"), ("force", "true" if force else "false")],
        body=config, header_params={"Content-Type": "application/apply-patch+yaml", "Accept": "application/json"},
        auth_settings=["BearerToken"], _preload_content=False,
    )[0]
    return json.loads(response.data)


try:
    apply(False)
    conflict = None
except ApiException as err:
    body = json.loads(err.body)
    conflict = {"status": err.status, "causes": body["details"]["causes"]}
node = apply(True)
emit(
    {
        "conflict": conflict,
        "env": node["metadata"]["labels"]["env"],
        "managers": [[m["manager"], m["operation"]] for m in node["metadata"]["managedFields"]],
    }
)
