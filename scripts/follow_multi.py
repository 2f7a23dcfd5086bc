#!/usr/bin/env python3
"""follow_multi: `tuibench.py follow`, spread over several files.

N writers (tuibench's own `_writer`, one process per file) append RATE/N lines/s each
for SECONDS s to N log files while CMD follows all of them in a private tmux pane
(COLSxROWS, tuibench's Tmux).  `{files}` in CMD becomes the files separated by spaces,
`{file0}` ... `{fileN-1}` each one.

Every file gets a disjoint `seq=` range (file k: k * 100,000,000 upwards; its first
--initial-lines lines exist before CMD starts, the writer continues from there), so
each `seq=NNNNNNNNN` on screen says which file it came from and when it was written.
tuibench's helpers do the rest: CPU of the program's process tree, peak RSS, the tmux
server's CPU and the machine's busy %.

  lag        every --poll-ms, for each file whose range is on screen: now - write time
             of the highest seq of that file on screen (a file still showing only its
             initial lines counts from its writer's start; a screen with no seq at all
             counts for every file from the writers' start); p50/p95/max over all
             samples and files while writing.
  catch-up   after the last writer ends: time until the seqs on screen stop changing
             (stable for --settle s) with at least one file's final line among them;
             n/a if that never happens within --catchup-timeout s.  (With several files
             the screen cannot always show every file's last line, e.g. `tail -F`
             prints each file's last batch in turn, so "settled on a final line" is the
             comparable end.)  `final_seen` lists the files whose last line was on
             screen at some sample after their writer ended.

  follow_multi.py --name NAME --cmd 'opsdeck --log {file0} --log {file1} ...' \\
                  [--files 4] [--rate 100000] [--seconds 10] [--reps 1] [--out F.json]

Uses /work/shared/tools/tuibench.py (or TUIBENCH=path) as a library; changes nothing there.
"""
import argparse
import bisect
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

TUIBENCH = os.environ.get("TUIBENCH") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tools", "tuibench.py")
TOOLS = os.path.dirname(os.path.abspath(TUIBENCH))
sys.path.insert(0, TOOLS)

import tuibench  # noqa: E402  (after the path insert)
from gen_log import make_lines  # noqa: E402

SEQ_RE = re.compile(r"seq=(\d{9})")
RANGE = 100_000_000  # seq numbers per file


def percentile(xs, q):
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else None


def start_writers(files, tmpd, rate_each, seconds, initial):
    """One tuibench `_writer` per file, each loaded and waiting for "go"."""
    writers = []
    for k, path in enumerate(files):
        wlog = os.path.join(tmpd, f"writer{k}.json")
        p = subprocess.Popen([sys.executable, TUIBENCH, "_writer", "--file", path, "--log", wlog,
                              "--rate", str(rate_each), "--seconds", str(seconds),
                              "--seq-start", str(k * RANGE + initial)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        writers.append((p, wlog))
    for p, _ in writers:
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError("a writer did not start")
    return writers


def visible(txt, nfiles):
    """Highest seq on screen per file (None where the file shows nothing), and all seqs."""
    seqs = [int(s) for s in SEQ_RE.findall(txt)]
    top = [None] * nfiles
    for s in seqs:
        k = s // RANGE
        if k < nfiles and (top[k] is None or s > top[k]):
            top[k] = s
    return top, frozenset(seqs)


def one_rep(a, i):
    n = a.files
    rate_each = a.rate // n
    per_file_initial = max(1, a.initial_lines // n)
    tmpd = tempfile.mkdtemp(prefix="follow-multi-")
    home = os.path.join(tmpd, "home")
    os.makedirs(home)
    files = [os.path.join(tmpd, f"app{k}.log") for k in range(n)]
    for k, path in enumerate(files):
        init = make_lines(per_file_initial, k * RANGE, time.time() - 3600, 3595, seed=3 + k)
        with open(path, "w") as f:
            f.write("".join(init))
    cmd = a.cmd.replace("{files}", " ".join(files))
    for k, path in enumerate(files):
        cmd = cmd.replace("{file%d}" % k, path)
    env = {"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config")}
    env.update(tuibench.parse_env(a.env))
    last_init = [f"seq={k * RANGE + per_file_initial - 1:09d}" for k in range(n)]

    tm = pid = None
    writers = []
    samples = []  # (time, top-per-file, seq set)
    stop = threading.Event()
    try:
        writers = start_writers(files, tmpd, rate_each, a.seconds, per_file_initial)
        tm = tuibench.Tmux(a.cols, a.rows, env)
        pid = tm.start(cmd)
        # Ready: the last initial line of any file is on screen (a merged view shows the
        # newest lines, which may all come from the file read last).
        ready = tuibench.wait_ready(tm, ["|".join(re.escape(m) for m in last_init)], 30, 0.05)
        if not ready:
            print("WARNING: no file's last initial line was shown:\n" + tm.capture(), flush=True)

        def sample():
            while not stop.is_set():
                txt = tm.capture()
                t = time.time()
                top, seqs = visible(txt, n)
                samples.append((t, top, seqs))
                time.sleep(a.poll_ms / 1000)

        time.sleep(1.0)
        c0, s0, y0 = tuibench.tree_cpu(pid), tuibench.proc_cpu(tm.server_pid), tuibench.sys_cpu()
        th = threading.Thread(target=sample, daemon=True)
        th.start()
        for p, _ in writers:
            p.stdin.write("go\n")
            p.stdin.flush()
        peak = 0
        while any(p.poll() is None for p, _ in writers):
            peak = max(peak, tuibench.tree_rss_kb(pid))
            time.sleep(0.2)
        W = []
        for _, wlog in writers:
            with open(wlog) as f:
                W.append(json.load(f))
        t0 = min(w["t0"] for w in W)
        t_end = max(w["times"][-1] for w in W)
        final = [w["last_seq"][-1] for w in W]

        # Wait until the seqs on screen have been stable for --settle s with a final line.
        deadline = t_end + a.catchup_timeout
        while time.time() < deadline:
            peak = max(peak, tuibench.tree_rss_kb(pid))
            if samples:
                t_last, _, last_set = samples[-1]
                stable_since = t_last
                for t, _, s in reversed(samples):
                    if s != last_set:
                        break
                    stable_since = t
                if (t_last - stable_since >= a.settle and stable_since > t_end - 1
                        and any(f in last_set for f in final)):
                    break
            time.sleep(0.1)
        c1, s1, y1 = tuibench.tree_cpu(pid), tuibench.proc_cpu(tm.server_pid), tuibench.sys_cpu()
        stop.set()
        th.join(timeout=2)
        hwm, pss, dead = tuibench.tree_hwm_kb(pid), tuibench.tree_pss_kb(pid), tm.pane_dead()
        snap = list(samples)

        # Lag while writing, per file on screen.
        lags = []
        per_file = [[] for _ in range(n)]
        for t, top, _ in snap:
            if t > t_end:
                break
            if all(s is None for s in top):
                lags.extend([t - t0] * n)
                continue
            for k, s in enumerate(top):
                if s is None:
                    continue
                if s < k * RANGE + per_file_initial:
                    lag = t - W[k]["t0"]
                else:
                    j = bisect.bisect_left(W[k]["last_seq"], s)
                    lag = t - W[k]["times"][min(j, len(W[k]["times"]) - 1)]
                lags.append(lag)
                per_file[k].append(lag)
        lags.sort()
        for pf in per_file:
            pf.sort()

        # Catch-up: start of the final stable run of seqs, if it holds a final line.
        caught = None
        after = [(t, s) for t, _, s in snap if t > t_end]
        if after and any(f in after[-1][1] for f in final):
            j = len(after) - 1
            while j > 0 and after[j - 1][1] == after[-1][1]:
                j -= 1
            if after[-1][0] - after[j][0] >= a.settle:
                caught = after[j][0] - t_end
        final_seen = [any(top[k] is not None and top[k] >= final[k] for t, top, _ in snap if t > W[k]["times"][-1])
                      for k in range(n)]
        write_dur = t_end - t0
        written = sum(final[k] - (k * RANGE + per_file_initial) + 1 for k in range(n))
        rep = {"rep": i, "files": n, "samples": len(snap), "ready": ready, "dead": dead,
               "lag_median_s": percentile(lags, 0.5), "lag_p95_s": percentile(lags, 0.95),
               "lag_max_s": lags[-1] if lags else None,
               "lag_p95_per_file_s": [percentile(pf, 0.95) for pf in per_file],
               "samples_per_file": [len(pf) for pf in per_file],
               "catchup_after_writer_end_s": caught, "final_seen": final_seen,
               "cpu_s": c1 - c0, "tmux_server_cpu_s": s1 - s0,
               "writer_cpu_s": sum(w["cpu_s"] for w in W),
               "writer_actual_s": write_dur, "writer_rate_lps": written / write_dur,
               "bytes_written": sum(w["bytes"] for w in W), "rss_peak_kb": peak, "hwm_kb": hwm,
               "pss_end_kb": pss,
               "end_samples": [(round(t - t_end, 3), top) for t, top, _ in snap if t > t_end - 0.3][:30],
               "final_seq": final,
               "sys_busy_pct": 100 * (y1[0] - y0[0]) / max(1, y1[1] - y0[1])}
        print(f"[follow-multi {a.name} rep{i}] files={n} lag med={rep['lag_median_s']} p95={rep['lag_p95_s']} "
              f"max={rep['lag_max_s']} catchup={caught} final_seen={sum(final_seen)}/{n} "
              f"cpu={rep['cpu_s']:.2f}s tmux_srv={rep['tmux_server_cpu_s']:.2f}s "
              f"writer_cpu={rep['writer_cpu_s']:.2f}s rate={rep['writer_rate_lps']:.0f}/s "
              f"rss_peak={peak}kB sys_busy={rep['sys_busy_pct']:.0f}%", flush=True)
        if caught is None:
            print("  last capture:\n" + tm.capture()[-2000:], flush=True)
        return rep
    finally:
        stop.set()
        for p, _ in writers:
            if p.poll() is None:
                tuibench.kill_pid(p.pid)
            p.wait()
        if tm:
            tm.close(pid)
        subprocess.run(["rm", "-rf", "--one-file-system", tmpd])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", required=True)
    ap.add_argument("--cmd", required=True, help="{files} or {file0}..{fileN-1} are substituted")
    ap.add_argument("--env", action="append", help="K=V, repeatable")
    ap.add_argument("--cols", type=int, default=200)
    ap.add_argument("--rows", type=int, default=50)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--rate", type=int, default=100_000, help="lines/s over all files")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--initial-lines", type=int, default=10_000, help="over all files")
    ap.add_argument("--poll-ms", type=float, default=50)
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--catchup-timeout", type=float, default=30)
    ap.add_argument("--out")
    a = ap.parse_args()
    if not 1 <= a.files <= 9:
        ap.error("--files must be 1..9 (seq has 9 digits, 100,000,000 per file)")
    # SIGTERM -> SystemExit so the finally blocks clean up (writers, tmux server).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    reps = []
    for i in range(a.reps):
        reps.append(one_rep(a, i))
        time.sleep(1)
    keys = ["lag_median_s", "lag_p95_s", "lag_max_s", "catchup_after_writer_end_s", "cpu_s",
            "tmux_server_cpu_s", "writer_cpu_s", "rss_peak_kb", "hwm_kb", "pss_end_kb", "sys_busy_pct"]
    res = {"kind": "follow_multi", "name": a.name, "cmd": a.cmd, "mode": "tmux", "files": a.files,
           "rate": a.rate, "seconds": a.seconds, "initial_lines": a.initial_lines, "poll_ms": a.poll_ms,
           "cols": a.cols, "rows": a.rows, "reps": reps,
           "summary": {k: tuibench.summ([r[k] for r in reps]) for k in keys}}
    print(f"FOLLOW-MULTI {a.name}: " + "  ".join(f"{k} {tuibench.fmt(v)}" for k, v in res["summary"].items()))
    tuibench.save(a.out, res)


if __name__ == "__main__":
    main()
