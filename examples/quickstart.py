"""The smallest real use: a loop that publishes its metrics every step.

Run it as it is to see the lines on stdout (the default mode), or with BENCHMARK_AI=fifo
inside the Benchmark AI infrastructure, where a sidecar reads them from the FIFO.
"""
import math
import time

import benchmarkai

begin = time.time()
loss = 2.0
for step in range(1, 6):
    loss *= 0.7 + 0.05 * math.sin(step)
    benchmarkai.emit({"step": step, "loss": loss, "elapsed_s": time.time() - begin})
print("served by the %s implementation of benchmarkai %s" % (benchmarkai.implementation, benchmarkai.__version__))
