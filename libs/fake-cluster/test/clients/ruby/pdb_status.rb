# PodDisruptionBudget status, read with a policy/v1 client.
# Args: <kubeconfig> <control-url> <namespace> <name>
require_relative 'knm_sim'

policy = KnmSim.client('/apis/policy', 'v1')
status = policy.get_pod_disruption_budget(ARGV[3], ARGV[2]).status
KnmSim.emit(
  disruptionsAllowed: status.disruptionsAllowed,
  currentHealthy: status.currentHealthy,
  desiredHealthy: status.desiredHealthy,
  expectedPods: status.expectedPods,
  conditions: status.conditions.map { |c| { type: c.type, status: c.status, reason: c.reason } }
)
