# ListOptions validation (422), resourceVersion with continue (400), a GET at a
# future resourceVersion (504).
# Args: <kubeconfig> <control-url> <node-name>
require_relative 'knm_sim'

name = ARGV[2]
client = KnmSim.client
listed = client.get_nodes(limit: 1)
current = listed.resourceVersion.to_i
KnmSim.emit(
  matchWithoutVersion: KnmSim.raw_get(client, 'nodes', resourceVersionMatch: 'NotOlderThan'),
  exactZero: KnmSim.raw_get(client, 'nodes', resourceVersion: '0', resourceVersionMatch: 'Exact'),
  continueWithVersion: KnmSim.outcome do
    client.get_nodes(limit: 1, continue: listed.continue, resource_version: current.to_s)
  end,
  futureGet: KnmSim.raw_get(client, "nodes/#{name}", resourceVersion: (current + 100).to_s)
)
