"""Item: node lifecycle. Cordon with the client; the unschedulable taint follows; the
node's Lease (coordination.k8s.io/v1) and its Events (core/v1) read back.

Args: <kubeconfig> <control-url> <node-name>. Prints the taints, lease and event reasons."""
import sys

from kubernetes import client, watch

from knm_sim import api_client, emit

name = sys.argv[3]
api = api_client()
v1 = client.CoreV1Api(api)
rv = v1.patch_node(name, {"spec": {"unschedulable": True}}).metadata.resource_version
taints = []
w = watch.Watch()
for event in w.stream(v1.list_node, field_selector="metadata.name=" + name, resource_version=rv, timeout_seconds=60):
    taints = [f"{t.key}:{t.effect}" for t in (event["object"].spec.taints or [])]
    if "node.kubernetes.io/unschedulable:NoSchedule" in taints:
        w.stop()
lease = client.CoordinationV1Api(api).read_namespaced_lease(name, "kube-node-lease")
events = v1.list_event_for_all_namespaces(field_selector="involvedObject.kind=Node,involvedObject.name=" + name)
emit(
    {
        "taints": taints,
        "lease": {"holder": lease.spec.holder_identity, "duration": lease.spec.lease_duration_seconds,
                  "renewed": lease.spec.renew_time is not None},
        "events": [{"reason": e.reason, "source": e.source.component} for e in events.items],
    }
)
