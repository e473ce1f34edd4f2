"""Item: boolean query parameters. An unmodified Watch().stream sends `watch=True`
and `allowWatchBookmarks=True`; it must receive events, not a plain list.

Args: <kubeconfig> <control-url> <node-name>. Prints the events each stream saw."""
import sys

from kubernetes import watch

from knm_sim import core_api, emit

name = sys.argv[3]
v1 = core_api()
listed = v1.list_node()
v1.patch_node(name, {"metadata": {"labels": {"knm-watch": "seen"}}})

replayed = []
w = watch.Watch()
for event in w.stream(v1.list_node, resource_version=listed.metadata.resource_version, timeout_seconds=60):
    node = event["object"]
    replayed.append({"type": event["type"], "name": node.metadata.name, "labels": node.metadata.labels})
    if node.metadata.name == name:
        w.stop()

added = []
w = watch.Watch()
for event in w.stream(v1.list_node, timeout_seconds=60):
    added.append(event["type"])
    if len(added) == len(listed.items):
        w.stop()

bookmarks = []
w = watch.Watch()
latest = v1.list_node().metadata.resource_version
for event in w.stream(v1.list_node, resource_version=latest, allow_watch_bookmarks=True, timeout_seconds=60):
    if event["type"] == "BOOKMARK":
        bookmarks.append(event["raw_object"]["metadata"]["resourceVersion"])
        w.stop()

emit({"replayed": replayed, "added": added, "bookmarks": bookmarks, "latest": latest})
