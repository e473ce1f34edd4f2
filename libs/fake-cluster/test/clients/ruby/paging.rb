# Continue tokens: reused with another selector; after compaction the 410 carries a
# continuation at the latest version, which the client follows.
# Args: <kubeconfig> <control-url> <node-name-to-change>
require_relative 'knm_sim'

changed = ARGV[2]
client = KnmSim.client
first = client.get_nodes(limit: 2)
rest = client.get_nodes(limit: 100, continue: first.continue, label_selector: '!node-role.kubernetes.io/control-plane')
page = client.get_nodes(limit: 2)
client.patch_node(changed, { metadata: { labels: { 'knm-paging' => 'changed' } } })
KnmSim.control('/_sim/faults', compact: true)
expired = KnmSim.outcome { client.get_nodes(limit: 2, continue: page.continue) }
after = client.get_nodes(limit: 100, continue: expired[:continue])
KnmSim.emit(
  first: first.map { |n| n.metadata.name },
  firstRv: first.resourceVersion,
  rest: rest.map { |n| n.metadata.name },
  restRv: rest.resourceVersion,
  expired: expired,
  after: after.map { |n| { name: n.metadata.name, labels: n.metadata.labels.to_h } },
  afterRv: after.resourceVersion
)
