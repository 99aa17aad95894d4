"""What the machine's cores give two CPU-bound processes right now: the reference the
scaling check's ratio is read against.

On a shared or virtualised 2-core machine two processes that share nothing do not get
2x one process, and how far short they fall drifts from minute to minute. Timing a
pure-Python loop in one process, then in two at once, then in one again (the scaling
round's own one-two-one order), beside each round, says how much of a low ratio is the
cores and how much is the consumers.
"""

from __future__ import annotations

import subprocess
import sys

# The child reports ready, waits for the go line (so both children of a pair start their
# loops within microseconds of each other, not a Python start-up apart), then prints the
# loop's seconds.
_LOOP = """
import sys, time
print("ready", flush=True)
sys.stdin.readline()
t0 = time.perf_counter()
x = 0
for i in range(int(sys.argv[1])):
    x += i * i % 7
print(time.perf_counter() - t0, flush=True)
"""

LOOPS = 12_000_000  # about 0.7 s a loop on the AMD EPYC development machine


def loop_seconds(processes: int, loops: int = LOOPS) -> list[float]:
    """Seconds each of ``processes`` concurrent children took for the same loop."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _LOOP, str(loops)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError("machine reference: a loop process did not start")
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        return [float(child.communicate(timeout=300)[0]) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()


def two_process_factor(loops: int = LOOPS) -> float:
    """Throughput of two concurrent loop processes over one alone: 2 x the mean of the
    one-process times either side / the slower of the two. 2.0 on idle, unshared cores."""
    before = loop_seconds(1, loops)[0]
    two = max(loop_seconds(2, loops))
    after = loop_seconds(1, loops)[0]
    return 2 * ((before + after) / 2) / two
