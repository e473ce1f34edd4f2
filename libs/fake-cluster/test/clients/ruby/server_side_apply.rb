# Server-side apply of a node with kubeclient's apply_node: a conflict with the
# label manager, then force.
# Args: <kubeconfig> <control-url> <node-name>
require_relative 'knm_sim'

name = ARGV[2]
client = KnmSim.client
client.rest_client["nodes/#{name}?fieldManager=rb-label"].patch(
  { metadata: { labels: { env: 'prod' } } }.to_json,
  { 'Content-Type' => 'application/merge-patch+json' }.merge(client.headers)
)
config = { apiVersion: 'v1', kind: 'Node', metadata: { name: name, labels: { env: 'staging' } } }
conflict = KnmSim.outcome { client.apply_node(config, field_manager: 'rb-apply', force: false) }
node = client.apply_node(config, field_manager: 'rb-apply', force: true)
KnmSim.emit(
  conflict: conflict.slice(:status, :message),
  env: node.metadata.labels.env,
  managers: node.metadata.managedFields.map { |m| [m.manager, m.operation] }
)
