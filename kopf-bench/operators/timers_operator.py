"""The `timers` scenario's operator for Python kopf: the same as timers_operator.rs."""
import sys
import time

import kopf

STATS = {'runs': 0, 'late_ms': [], 'reported': None}


@kopf.timer('kopf.dev', 'v1', 'kopfexamples', interval=1.0)
def tick(memo, **_):
    now = time.monotonic()
    previous = memo.get('previous')
    memo['previous'] = now
    STATS['runs'] += 1
    if previous is not None:
        STATS['late_ms'].append(max(0.0, now - previous - 1.0) * 1000.0)
    if STATS['reported'] is None:
        STATS['reported'] = now
    if now - STATS['reported'] >= 5 and STATS['late_ms']:
        late = sorted(STATS['late_ms'])
        STATS['late_ms'] = []
        at = lambda q: late[round((len(late) - 1) * q)]
        print(f"bench-timers: runs={STATS['runs']} p50={at(0.5):.3f} p99={at(0.99):.3f} max={at(1.0):.3f}",
              file=sys.stderr, flush=True)
        STATS['reported'] = now


@kopf.daemon('kopf.dev', 'v1', 'kopfexamples')
async def sleeper(stopped, **_):
    await stopped.wait()
