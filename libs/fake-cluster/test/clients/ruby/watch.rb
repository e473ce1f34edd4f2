# Watches (kubeclient's /watch paths): a change after a list's version arrives as
# MODIFIED; lists decode although their items carry no kind/apiVersion.
# Args: <kubeconfig> <control-url> <node-name>
require_relative 'knm_sim'

name = ARGV[2]
client = KnmSim.client
listed = client.get_nodes
client.patch_node(name, { metadata: { labels: { 'knm-watch' => 'seen' } } })
seen = nil
client.watch_nodes(resource_version: listed.resourceVersion) do |notice|
  seen = { type: notice.type, name: notice.object.metadata.name, labels: notice.object.metadata.labels.to_h }
  break if notice.object.metadata.name == name
end
raw = JSON.parse(client.get_nodes(as: :raw))
KnmSim.emit(
  listKind: listed.kind,
  names: listed.map { |n| n.metadata.name },
  itemKeys: raw['items'].flat_map(&:keys).uniq.sort,
  seen: seen
)
