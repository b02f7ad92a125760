"""The benchmark's operator for Python kopf: the same handlers as bench_operator.rs."""
import kopf


@kopf.on.create('kopfexamples')
def create_fn(**_):
    return {'message': 'created'}


@kopf.on.field('kopfexamples', field='spec.field')
def field_fn(old, new, **_):
    pass


@kopf.on.delete('kopfexamples')
def delete_fn(**_):
    pass
