"""Loads a kubeconfig exactly as kopf 1.45 does without client libraries, then makes one
HTTPS request with kopf's own SSL context (strict X.509 checks, as Python 3.13 defaults to).

Usage: python kubeconfig_probe.py  (KUBECONFIG in the environment). Prints JSON.
"""
import json
import ssl
import sys
import urllib.request

import kopf
from kopf._core.intents import piggybacking

info = piggybacking.login_with_kubeconfig(settings=kopf.OperatorSettings())
result = {
    'server': info.server,
    'token': info.token,
    'has_ca': bool(info.ca_data),
    'namespace': info.default_namespace,
}
if info.server.startswith('https://'):
    context = info.as_ssl_context()
    context.verify_flags |= getattr(ssl, 'VERIFY_X509_STRICT', 0)
    request = urllib.request.Request(info.server + '/version')
    if info.token:
        request.add_header('Authorization', f'Bearer {info.token}')
    with urllib.request.urlopen(request, context=context, timeout=20) as response:
        result['status'] = response.status
        result['body'] = json.loads(response.read())
json.dump(result, sys.stdout)
