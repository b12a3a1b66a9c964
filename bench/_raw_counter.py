"""One member of a bare PySyncObj counter group (helper of bench/cp_throughput.py, not a benchmark itself).

argv: SELF PEERS(comma) PASSWORD N_OPS DRIVE(0|1). The driving member pipelines N_OPS increments with
at most WINDOW in flight and prints {"raw_commits_per_s": ...}; the others run until killed.
"""

import json
import sys
import threading
import time

from pysyncobj import SyncObj, SyncObjConf, replicated

WINDOW = 2000


class Counter(SyncObj):
    def __init__(self, self_addr: str, peers: list[str], password: str) -> None:
        conf = SyncObjConf(
            bindAddress=self_addr,
            password=password,
            useFork=False,
            dynamicMembershipChange=False,
            commandsWaitLeader=False,
            appendEntriesUseBatch=False,
            raftMinTimeout=0.8,
            raftMaxTimeout=1.6,
            appendEntriesPeriod=0.1,
            commandsQueueSize=200_000,
        )
        super().__init__(self_addr, peers, conf=conf)
        self.value = 0

    @replicated
    def incr(self, payload: bytes) -> int:
        self.value += 1
        return self.value


def main() -> None:
    self_addr, peers, password, n, drive = (
        sys.argv[1],
        sys.argv[2].split(","),
        sys.argv[3],
        int(sys.argv[4]),
        sys.argv[5] == "1",
    )
    node = Counter(self_addr, [p for p in peers if p != self_addr], password)
    if not drive:
        threading.Event().wait()
    deadline = time.monotonic() + 30
    while node._getLeader() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    payload = b"x" * 100
    sem = threading.Semaphore(WINDOW)
    done = threading.Event()
    count = [0]

    def cb(res, err):
        count[0] += 1
        sem.release()
        if count[0] == n:
            done.set()

    start = time.perf_counter()
    for _ in range(n):
        sem.acquire()
        node.incr(payload, callback=cb)
    done.wait(120)
    elapsed = time.perf_counter() - start
    print(json.dumps({"raw_commits_per_s": round(n / elapsed, 1), "raw_ops": n}), flush=True)
    node.destroy()


if __name__ == "__main__":
    main()
