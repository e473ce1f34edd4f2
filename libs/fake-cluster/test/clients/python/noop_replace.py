"""Item: semantic no-op writes. The client serializes a read object in its own key
order (and its own timestamp format): replacing it unchanged must not make a new version.

Args: <kubeconfig> <control-url> <node-name>. Prints the versions seen."""
import sys

from knm_sim import core_api, emit

name = sys.argv[3]
v1 = core_api()
node = v1.read_node(name)
same = v1.replace_node(name, node)
node = v1.read_node(name)
node.metadata.labels["knm-noop"] = "changed"
changed = v1.replace_node(name, node)
emit(
    {
        "before": node.metadata.resource_version,
        "same": same.metadata.resource_version,
        "changed": changed.metadata.resource_version,
        "changedLabel": changed.metadata.labels.get("knm-noop"),
    }
)
