# Node lifecycle: cordon with the client; the unschedulable taint follows (watched);
# the node's Lease and Events read back.
# Args: <kubeconfig> <control-url> <node-name>
require_relative 'knm_sim'

name = ARGV[2]
client = KnmSim.client
rv = client.patch_node(name, { spec: { unschedulable: true } }).metadata.resourceVersion
taints = []
client.watch_nodes(field_selector: "metadata.name=#{name}", resource_version: rv) do |notice|
  taints = (notice.object.spec.taints || []).map { |t| "#{t.key}:#{t.effect}" }
  break if taints.include?('node.kubernetes.io/unschedulable:NoSchedule')
end
lease = KnmSim.client('/apis/coordination.k8s.io', 'v1').get_lease(name, 'kube-node-lease')
events = client.get_events(field_selector: "involvedObject.kind=Node,involvedObject.name=#{name}")
KnmSim.emit(
  taints: taints,
  lease: { holder: lease.spec.holderIdentity, duration: lease.spec.leaseDurationSeconds,
           renewed: !lease.spec.renewTime.nil? },
  events: events.map { |e| { reason: e.reason, source: e.source.component } }
)
