# Shared set-up of the scripts that drive kube-sim with Debian's ruby-kubeclient.
#
# Every script is run as `ruby <script> <kubeconfig> <control-url> [args...]` and
# prints one JSON document (its observations) on stdout; the vitest test asserts on it.
# The client is built from the kubeconfig as an application would, and used unmodified.
require 'json'
require 'net/http'
require 'kubeclient'

module KnmSim
  module_function

  # A Kubeclient::Client for `group_path` ('/api' or '/apis/policy') and `version`.
  def client(group_path = '/api', version = 'v1')
    context = Kubeclient::Config.read(ARGV[0]).context
    Kubeclient::Client.new(
      context.api_endpoint + group_path, version,
      ssl_options: context.ssl_options, auth_options: context.auth_options
    )
  end

  # POSTs to kube-sim's /_sim control API (plain HTTP at ARGV[1]).
  def control(path, body)
    uri = URI(ARGV[1] + path)
    Net::HTTP.post(uri, body.to_json, 'content-type' => 'application/json')
  end

  # The outcome of a call that may fail with a Kubeclient::HttpError: status, reason, message.
  def outcome
    yield
    { status: 200 }
  rescue Kubeclient::HttpError => e
    body = JSON.parse(e.response.body)
    { status: e.error_code, reason: body['reason'], message: body['message'], continue: body.dig('metadata', 'continue') }
  end

  # A GET through the client's own REST transport (headers carry its bearer token),
  # for parameters kubeclient has no option for.
  def raw_get(client, path, params)
    client.rest_client[path].get({ params: params }.merge(client.headers))
    { status: 200 }
  rescue RestClient::Exception => e
    body = JSON.parse(e.response.body)
    { status: e.http_code, reason: body['reason'], message: body['message'] }
  end

  def emit(result)
    puts result.to_json
  end
end
