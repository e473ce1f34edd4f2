"""Item: continue tokens. A token is reused with another selector; after compaction
the 410 carries a continuation at the latest version, which the client follows.

Args: <kubeconfig> <control-url> <node-name-to-change>. Prints what each list returned."""
import json
import sys

from kubernetes.client.exceptions import ApiException

from knm_sim import control, core_api, emit

changed = sys.argv[3]
v1 = core_api()
first = v1.list_node(limit=2)
rest = v1.list_node(
    limit=100, _continue=first.metadata._continue, label_selector="!node-role.kubernetes.io/control-plane"
)

page = v1.list_node(limit=2)
v1.patch_node(changed, {"metadata": {"labels": {"knm-paging": "changed"}}})
control("/_sim/faults", {"compact": True})
expired = {}
try:
    v1.list_node(limit=2, _continue=page.metadata._continue)
except ApiException as err:
    body = json.loads(err.body)
    expired = {"status": err.status, "reason": body["reason"], "continue": body["metadata"].get("continue")}
after = v1.list_node(limit=100, _continue=expired.get("continue"))

emit(
    {
        "first": [n.metadata.name for n in first.items],
        "firstRv": first.metadata.resource_version,
        "rest": [n.metadata.name for n in rest.items],
        "restRv": rest.metadata.resource_version,
        "restContinue": rest.metadata._continue,
        "expired": expired,
        "after": [{"name": n.metadata.name, "labels": n.metadata.labels} for n in after.items],
        "afterRv": after.metadata.resource_version,
    }
)
