# peer_util.py — what torch_bench.py and ort_bench.py share that must not import numpy or
# torch (they read the resident set before loading them).


def rss_kb():
    """This process's resident set in KiB, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
