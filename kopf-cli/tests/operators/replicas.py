"""The Python side of the peering interop test: the same handler as replicas.rs."""
import os
import time

import kopf


@kopf.on.create('kopf.dev', 'v1', 'kopfexamples')
def create_fn(name, **_):
    pod = os.environ.get('POD_ID', '')
    print(f"HANDLED {name} BY {pod} START {int(time.time() * 1000)}", flush=True)
    print(f"HANDLED {name} BY {pod} END {int(time.time() * 1000)}", flush=True)
    return {'by': pod}
