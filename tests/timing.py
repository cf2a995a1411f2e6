"""The one allowance for tests that time a whole command from outside its process."""

STARTUP_SECONDS = 6.0
"""What a command may take beyond its time limit: Python, OR-Tools and numba's cached kernels load in 2-4 s on a
2-core machine, longer while other tests run beside it (the `wallclock` tests run on their own)."""
