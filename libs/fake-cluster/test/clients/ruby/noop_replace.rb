# Semantic no-op writes: a node read, its keys sorted (what a YAML round trip does)
# and PUT back unchanged must not make a new version.
# Args: <kubeconfig> <control-url> <node-name>
require_relative 'knm_sim'

def sort_keys(value)
  case value
  when Hash then value.keys.sort.to_h { |k| [k, sort_keys(value[k])] }
  when Array then value.map { |v| sort_keys(v) }
  else value
  end
end

name = ARGV[2]
client = KnmSim.client
node = JSON.parse(client.get_node(name, nil, as: :raw), symbolize_names: true)
same = client.update_node(sort_keys(node))
KnmSim.emit(before: node[:metadata][:resourceVersion], same: same.metadata.resourceVersion)
