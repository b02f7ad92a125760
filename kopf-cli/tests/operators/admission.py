"""The Python side of the admission interop test: kopf 1.45.2's own webhook server, with
its own self-signed certificate, registered by its own managed configurations
(`py.kopf.dev`), called by the embedded API server. The CA is dumped where
`ADMISSION_CADUMP` says, for the test to compare with the configurations' caBundle."""
import os
import re

import kopf


def _import_oscrypto_despite_two_digit_openssl_patches():
    """oscrypto 1.3.0 (the last on PyPI, used by certbuilder for kopf's self-signed
    certificates) cannot parse versions like "OpenSSL 3.0.19" (wbond/oscrypto#78, fixed
    only in its repository): its version regex reads one digit per part. Import it once
    with that regex widened; kopf then finds it imported."""
    try:
        import oscrypto.asymmetric  # noqa: F401
        return
    except Exception:
        pass
    search = re.search

    def widened(pattern, string, flags=0):
        if pattern == '\\b(\\d\\.\\d\\.\\d[a-z]*)\\b':
            pattern = '\\b(\\d\\.\\d\\.\\d+[a-z]*)\\b'
        return search(pattern, string, flags)

    re.search = widened
    try:
        import sys
        for name in [n for n in sys.modules if n.startswith('oscrypto')]:
            del sys.modules[name]
        import oscrypto.asymmetric  # noqa: F401
    finally:
        re.search = search


_import_oscrypto_despite_two_digit_openssl_patches()


@kopf.on.startup()
def config(settings: kopf.OperatorSettings, **_):
    settings.admission.server = kopf.WebhookServer(
        addr='127.0.0.1',
        host='127.0.0.1',
        cadump=os.environ.get('ADMISSION_CADUMP'),
    )
    settings.admission.managed = 'py.kopf.dev'


@kopf.on.validate('kopf.dev', 'v1', 'kopfexamples')
def validate_py(spec, dryrun, warnings, **_):
    warnings.append(f'Python kopf was here (dryrun={dryrun}).')
    if spec.get('field') == 'python-says-no':
        raise kopf.AdmissionError("Python kopf refuses it.", code=418)


@kopf.on.mutate('kopf.dev', 'v1', 'kopfexamples')
def mutate_py(patch, **_):
    patch.spec['mutated_by'] = 'python'
