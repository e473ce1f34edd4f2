"""Item: ListOptions validation (422), resourceVersion with continue (400), a GET at
a future resourceVersion (504), through the client's own calls and transport.

Args: <kubeconfig> <control-url> <node-name>. Prints status, reason and message per case."""
import json
import sys

from kubernetes.client.exceptions import ApiException

from knm_sim import core_api, emit, raw_get

name = sys.argv[3]
v1 = core_api()


def outcome(call):
    try:
        call()
        return {"status": 200}
    except ApiException as err:
        body = json.loads(err.body)
        return {"status": err.status, "reason": body.get("reason"), "message": body.get("message")}


listed = v1.list_node(limit=1)
current = int(listed.metadata.resource_version)
results = {
    "matchWithoutVersion": outcome(lambda: v1.list_node(resource_version_match="NotOlderThan")),
    "unknownMatch": outcome(lambda: v1.list_node(resource_version="1", resource_version_match="Newest")),
    "exactZero": outcome(lambda: v1.list_node(resource_version="0", resource_version_match="Exact")),
    "continueWithVersion": outcome(
        lambda: v1.list_node(limit=1, _continue=listed.metadata._continue, resource_version=str(current))
    ),
}
status, body = raw_get(v1.api_client, "/api/v1/nodes", [("sendInitialEvents", "true")])
results["sendInitialEventsOnList"] = {"status": status, "reason": body.get("reason"), "message": body.get("message")}
status, body = raw_get(v1.api_client, "/api/v1/nodes/" + name, [("resourceVersion", str(current + 100))])
results["futureGet"] = {"status": status, "reason": body.get("reason"), "message": body.get("message")}
emit(results)
