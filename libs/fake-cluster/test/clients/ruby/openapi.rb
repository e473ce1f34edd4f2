# OpenAPI v3 and server-side field validation through kubeclient's REST transport.
# Args: <kubeconfig> <control-url>
require_relative 'knm_sim'

client = KnmSim.client
root = RestClient::Resource.new(client.api_endpoint.to_s.sub(%r{/api$}, ''), client.rest_client.options)
index = JSON.parse(root['openapi/v3'].get(client.headers).body)
document = JSON.parse(root[index['paths']['api/v1']['serverRelativeURL'].delete_prefix('/')].get(client.headers).body)
refused = begin
  client.rest_client['namespaces?fieldValidation=Strict'].post(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rb', labelz: { a: 'b' } } }.to_json,
    { 'Content-Type' => 'application/json' }.merge(client.headers)
  )
  nil
rescue RestClient::Exception => e
  { status: e.http_code, message: JSON.parse(e.response.body)['message'] }
end
KnmSim.emit(
  groupVersions: index['paths'].keys.sort,
  nodeKind: document['components']['schemas']['io.k8s.api.core.v1.Node']['x-kubernetes-group-version-kind'],
  refused: refused
)
