"""Item: list items carry no kind/apiVersion (as a real server's built-in lists);
the typed client still decodes them.

Args: <kubeconfig> <control-url>. Prints the raw item keys and the typed names."""
from knm_sim import core_api, emit, raw_get

v1 = core_api()
status, raw = raw_get(v1.api_client, "/api/v1/nodes", [])
typed = v1.list_node()
pods = v1.list_pod_for_all_namespaces(limit=3)
emit(
    {
        "status": status,
        "kind": raw["kind"],
        "apiVersion": raw["apiVersion"],
        "itemKeys": sorted({key for item in raw["items"] for key in item}),
        "typedNames": [n.metadata.name for n in typed.items],
        "typedKinds": [n.kind for n in typed.items],
        "podNames": [p.metadata.name for p in pods.items],
        "single": v1.read_node(typed.items[0].metadata.name).kind,
    }
)
