# Access reviews through kubeclient's discovered entities of authorization.k8s.io
# and authentication.k8s.io (create_self_subject_access_review, ...).
# Args: <kubeconfig> <control-url>
require_relative 'knm_sim'

authz = KnmSim.client('/apis/authorization.k8s.io', 'v1')
access = authz.create_self_subject_access_review(
  Kubeclient::Resource.new(metadata: {}, spec: { resourceAttributes: { verb: 'patch', resource: 'nodes' } })
)
authn = KnmSim.client('/apis/authentication.k8s.io', 'v1')
who = authn.create_self_subject_review(Kubeclient::Resource.new(metadata: {}))
KnmSim.emit(
  allowed: access.status.allowed,
  resource: access.spec.resourceAttributes.resource,
  user: who.status.userInfo.to_h
)
