"""Item: metrics.k8s.io as an application reads it with the client's CustomObjectsApi
(what Python tools use for metrics-server): node metrics by label selector, one
node, pod metrics of a namespace, and the 404 of a node that does not exist.

Args: <kubeconfig> <control-url> <node-name>. Prints what each call returned."""
import sys

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from knm_sim import api_client, emit

name = sys.argv[3]
metrics = client.CustomObjectsApi(api_client())
workers = metrics.list_cluster_custom_object(
    "metrics.k8s.io", "v1beta1", "nodes", label_selector="!node-role.kubernetes.io/control-plane"
)
one = metrics.get_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes", name)
pods = metrics.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "kube-system", "pods")
missing = {}
try:
    metrics.get_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes", "nope")
except ApiException as err:
    missing = {"status": err.status}
emit(
    {
        "kind": workers["kind"],
        "workers": [n["metadata"]["name"] for n in workers["items"]],
        "one": {"name": one["metadata"]["name"], "window": one["window"], "usage": one["usage"]},
        "podNamespaces": sorted({p["metadata"]["namespace"] for p in pods["items"]}),
        "podContainers": min(len(p["containers"]) for p in pods["items"]),
        "missing": missing,
    }
)
