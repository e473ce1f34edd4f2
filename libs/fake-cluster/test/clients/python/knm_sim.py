"""Shared set-up of the scripts that drive kube-sim with Debian's python3-kubernetes.

Every script is run as `python3 <script> <kubeconfig> <control-url> [args...]` and
prints one JSON document (its observations) on stdout; the vitest test asserts on it.
The client is used as an application would: from the kubeconfig, unmodified.
"""
import json
import sys
import urllib.request

from kubernetes import client, config


def core_api():
    """A CoreV1Api built from the kubeconfig in argv[1] (HTTPS, bearer token, CA data)."""
    return client.CoreV1Api(config.new_client_from_config(config_file=sys.argv[1]))


def api_client():
    return config.new_client_from_config(config_file=sys.argv[1])


def control(path, body):
    """POSTs to kube-sim's /_sim control API (plain HTTP at argv[2])."""
    request = urllib.request.Request(
        sys.argv[2] + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def raw_get(api, path, query):
    """GET through the client's own transport; returns (status, decoded body)."""
    try:
        response = api.call_api(
            path, "GET", query_params=query, auth_settings=["BearerToken"],
            _preload_content=False, response_type="object",
        )[0]
        return response.status, json.loads(response.data)
    except client.exceptions.ApiException as err:
        return err.status, json.loads(err.body)


def emit(result):
    print(json.dumps(result))
