"""The timer parity operator for Python kopf: the same handlers as timers.rs."""
import kopf


@kopf.timer('kopf.dev', 'v1', 'kopfexamples', interval=0.5)
def tick_fn(spec, **_):
    return {'message': 'ticked', 'field': spec.get('field')}
