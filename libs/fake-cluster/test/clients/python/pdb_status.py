"""Item: PodDisruptionBudget status, read through the typed policy/v1 API.

Args: <kubeconfig> <control-url> <namespace> <name>. Prints the status fields."""
import sys

from kubernetes import client

from knm_sim import api_client, emit

pdb = client.PolicyV1Api(api_client()).read_namespaced_pod_disruption_budget(sys.argv[4], sys.argv[3])
emit(
    {
        "disruptionsAllowed": pdb.status.disruptions_allowed,
        "currentHealthy": pdb.status.current_healthy,
        "desiredHealthy": pdb.status.desired_healthy,
        "expectedPods": pdb.status.expected_pods,
        "conditions": [{"type": c.type, "status": c.status, "reason": c.reason} for c in pdb.status.conditions],
    }
)
