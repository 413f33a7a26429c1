#!/usr/bin/env python3
"""bpfmerge link benchmark against libbpf's static linker (`bpftool gen object`).

    python3 scripts/bench.py                  # every profile, full sizes; writes docs/bench.md + README
    python3 scripts/bench.py --quick          # every profile at N=1000 (large: 10), 3 runs: a few minutes
    cargo bench --bench link [-- --quick]     # the same, on the bpfmerge cargo just built
    python3 scripts/bench.py --profiles small --size small=10,100 --runs 3 --no-doc   # a quick look

Profiles (bench/corpus.py builds and caches them): small, medium, heavy, core, large. For each
profile and size N, both tools link the same N objects. First each tool links once and its
output is loaded into the kernel with `bpftool prog loadall` (every program, for N <= --load-max);
then the timed runs alternate the two tools (bpfmerge first on even runs, libbpf first on odd
runs). Reported: median wall and CPU time and their ratios, time per object, peak RSS
(/usr/bin/time %M) and its ratio, output file size and .BTF section size, plus the targets of
issue 13. A run longer than --budget seconds is killed and reported as a timeout.

bpfmerge is taken from --bpfmerge, else $BPFMERGE, else <repo>/target/release/bpfmerge.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import corpus  # noqa: E402

OUT = ROOT / "target" / "bench-out"
DOC = ROOT / "docs" / "bench.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
TOOLS = ("bpfmerge", "libbpf")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# measuring one run


class Run:
    def __init__(self, rc, wall, cpu, rss_kib, timed_out, stderr):
        self.rc, self.wall, self.cpu, self.rss_kib, self.timed_out, self.stderr = (
            rc, wall, cpu, rss_kib, timed_out, stderr)

    @property
    def ok(self):
        return self.rc == 0 and not self.timed_out


def run_measured(argv, cwd, budget):
    """Run argv; wall time from perf_counter, peak RSS in KiB; kill after budget s."""
    errf = open(OUT / "last-stderr.txt", "w+b")
    rss_file = OUT / "last-rss.txt"
    rss_file.unlink(missing_ok=True)
    # Peak RSS comes from /usr/bin/time (a small C process): wait4 from Python would report the
    # RSS of the forked Python interpreter (~20 MiB) for any child that uses less.
    t0 = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *argv], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=errf, start_new_session=True)
    timed_out = threading.Event()

    def kill():
        timed_out.set()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(budget, kill)
    timer.start()
    # rusage of /usr/bin/time includes its waited-for child: user + system CPU time of the tool
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = ru.ru_utime + ru.ru_stime
    try:
        rss = int(rss_file.read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        rss = 0
    errf.seek(0)
    err = errf.read().decode(errors="replace")
    errf.close()
    return Run(proc.returncode, wall, cpu, rss, timed_out.is_set(), err)


def argv_for(tool, bpfmerge, inputs, out):
    if tool == "bpfmerge":
        return [bpfmerge, *inputs, "-o", str(out)]
    return ["bpftool", "gen", "object", str(out), *inputs]


# ---------------------------------------------------------------------------------------------
# ELF: size of .BTF / .BTF.ext


def elf_sections(path):
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError(f"{path}: not ELF64")
    e = "<" if data[5] == 1 else ">"
    shoff, = struct.unpack_from(e + "Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", data, 0x3A)
    hdrs = [struct.unpack_from(e + "IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stroff = hdrs[shstrndx][4]
    out = {}
    for h in hdrs:
        name_end = data.index(b"\0", stroff + h[0])
        out[data[stroff + h[0]:name_end].decode()] = h[5]
    return out


# ---------------------------------------------------------------------------------------------
# validity: load every program of the output into the kernel


def load_check(path):
    """`bpftool prog loadall`; returns (number of programs pinned, error or None)."""
    pin = Path(f"/sys/fs/bpf/bpfmerge-bench-{os.getpid()}")
    shutil.rmtree(pin, ignore_errors=True)
    try:
        r = subprocess.run(["bpftool", "prog", "loadall", str(path), str(pin)],
                           capture_output=True, text=True, timeout=1800)
        n = len(os.listdir(pin)) if pin.exists() else 0
        if r.returncode != 0:
            tail = "\n".join((r.stderr or r.stdout).strip().splitlines()[-15:])
            return n, f"bpftool prog loadall failed:\n{tail}"
        return n, None
    except subprocess.TimeoutExpired:
        return 0, "bpftool prog loadall timed out"
    finally:
        shutil.rmtree(pin, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# one corpus size


def bench_case(label, kind, n, args):
    progs_per_obj = corpus.programs_per_object(kind)
    d, names = corpus.ensure(kind, n, jobs=args.jobs)
    case = {"label": label, "kind": kind, "n": n, "tools": {}}
    log(f"[bench] {label}: {n} objects from {d.relative_to(ROOT)}")
    active = []
    for tool in TOOLS:
        res = case["tools"][tool] = {"runs": [], "cpu": [], "rss_kib": [], "error": None}
        if tool == "bpfmerge" and not args.bpfmerge_ok:
            res["error"] = args.bpfmerge_missing
            continue
        out = OUT / f"{label}.{tool}.o"
        out.unlink(missing_ok=True)
        first = run_measured(argv_for(tool, args.bpfmerge, names, out), d, args.budget)
        if first.timed_out:
            res["error"] = f"timeout: > {args.budget:.0f} s"
            log(f"[bench]   {tool}: {res['error']}")
            continue
        if first.rc != 0:
            res["error"] = f"exit {first.rc}: " + first.stderr.strip()[-600:]
            log(f"[bench]   {tool}: failed: {res['error']}")
            continue
        res["first_wall"] = first.wall
        res["out_bytes"] = out.stat().st_size
        secs = elf_sections(out)
        res["btf_bytes"] = secs.get(".BTF", 0)
        res["btf_ext_bytes"] = secs.get(".BTF.ext", 0)
        if args.load_check and n <= args.load_max:
            t0 = time.perf_counter()
            loaded, err = load_check(out)
            res["loaded"] = loaded
            res["load_error"] = err
            expect = n * progs_per_obj
            if err is None and loaded != expect:
                res["load_error"] = f"{loaded} programs pinned, expected {expect}"
            log(f"[bench]   {tool}: loads {loaded}/{expect} programs"
                f" ({time.perf_counter() - t0:.1f} s){': ' + res['load_error'] if res['load_error'] else ''}")
        active.append(tool)

    # timed runs: fewer for slow cases so 5000 objects fit in a reasonable time
    slowest = max([case["tools"][t]["first_wall"] for t in active] or [0])
    runs = args.runs if slowest < 30 else (3 if slowest < 120 else 1)
    case["runs"] = runs
    for r in range(runs):
        order = active if r % 2 == 0 else list(reversed(active))
        for tool in order:
            res = case["tools"][tool]
            if res["error"]:
                continue
            out = OUT / f"{label}.{tool}.timed.o"
            m = run_measured(argv_for(tool, args.bpfmerge, names, out), d, args.budget)
            if not m.ok:
                res["error"] = (f"timeout: > {args.budget:.0f} s" if m.timed_out
                                else f"exit {m.rc} on run {r}: {m.stderr.strip()[-300:]}")
                continue
            res["runs"].append(m.wall)
            res["cpu"].append(m.cpu)
            res["rss_kib"].append(m.rss_kib)
            out.unlink(missing_ok=True)
        log(f"[bench]   run {r + 1}/{runs}: " + ", ".join(
            f"{t} {case['tools'][t]['runs'][-1]:.3f} s" for t in order
            if case["tools"][t]["runs"] and len(case["tools"][t]["runs"]) == r + 1))
    b = case["tools"]["bpfmerge"]
    if args.instructions and not b["error"]:
        cg = OUT / "callgrind.out"
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}",
                            args.bpfmerge, *names, "-o", str(OUT / f"{label}.cg.o")],
                           cwd=d, capture_output=True, text=True)
        for line in r.stderr.splitlines():
            if "Collected :" in line:
                b["instructions"] = int(line.split(":")[-1].strip())
        log(f"[bench]   bpfmerge: {b.get('instructions', 0) / n / 1e6:.3f} M instructions/object")
    for tool in TOOLS:
        res = case["tools"][tool]
        if res["runs"]:
            res["median"] = statistics.median(res["runs"])
            res["cpu_median"] = statistics.median(res["cpu"])
            res["peak_kib"] = max(res["rss_kib"])
    return case


# ---------------------------------------------------------------------------------------------
# report


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def ratio(c, key):
    b, l = c["tools"]["bpfmerge"].get(key), c["tools"]["libbpf"].get(key)
    return b / l if b and l else None


def table(cases):
    head = ("| profile | N | wall s bpfmerge | wall s libbpf | wall ratio | CPU s bpfmerge "
            "| CPU s libbpf | CPU ratio | ms/obj bpfmerge | ms/obj libbpf | peak MiB bpfmerge "
            "| peak MiB libbpf | memory ratio | out KiB bpfmerge | out KiB libbpf "
            "| BTF KiB bpfmerge | BTF KiB libbpf | runs | loads (bpfmerge / libbpf) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for c in cases:
        b, l = c["tools"]["bpfmerge"], c["tools"]["libbpf"]

        def g(res, key, scale=1.0):
            v = res.get(key)
            return None if v is None else v * scale

        bm, lm = g(b, "median"), g(l, "median")
        n = c["n"]

        def med(res, v):
            if v is not None:
                return fmt(v, ".3f")
            return "timeout" if (res["error"] or "").startswith("timeout") else (
                "n/a" if res["error"] else "—")

        def loads(res):
            if res.get("error") and "first_wall" not in res:
                return "—"
            if "loaded" not in res:
                return "not checked"
            return f"{res['loaded']} ok" if not res.get("load_error") else f"FAIL ({res['loaded']})"

        lines.append("| " + " | ".join([
            c["kind"], str(n), med(b, bm), med(l, lm), fmt(ratio(c, "median"), ".2f"),
            fmt(g(b, "cpu_median"), ".3f"), fmt(g(l, "cpu_median"), ".3f"),
            fmt(ratio(c, "cpu_median"), ".2f"),
            fmt(bm and bm / n * 1000, ".2f"), fmt(lm and lm / n * 1000, ".2f"),
            fmt(g(b, "peak_kib", 1 / 1024), ".1f"), fmt(g(l, "peak_kib", 1 / 1024), ".1f"),
            fmt(ratio(c, "peak_kib"), ".2f"),
            fmt(g(b, "out_bytes", 1 / 1024), ".1f"), fmt(g(l, "out_bytes", 1 / 1024), ".1f"),
            fmt(g(b, "btf_bytes", 1 / 1024), ".1f"), fmt(g(l, "btf_bytes", 1 / 1024), ".1f"),
            str(c.get("runs", 0)), f"{loads(b)} / {loads(l)}",
        ]) + " |")
    return "\n".join(lines)


# issue 13's targets
WALL_MAX, CPU_MAX, MEM_MAX, STEP_MAX = 0.5, 0.5, 1.0, 1.3


def verdict_cell(value, ok, spec=".2f"):
    if value is None:
        return "—"
    text = format(value, spec) if isinstance(value, float) else str(value)
    return f"{text} ok" if ok else f"**{text} missed**"


def steps(cases, key):
    """Per-object `key` between consecutive sizes: [(n_a, n_b, factor)]."""
    per = [(c["n"], c["tools"]["bpfmerge"][key] / c["n"]) for c in cases
           if c["tools"]["bpfmerge"].get(key)]
    return [(a[0], b[0], b[1] / a[1]) for a, b in zip(per, per[1:])]


def profile_targets(kind, cases):
    """One row of the target table: the profile's reference case (N=1000, or its largest N
    when it has no 1000) for time; every case of the profile for memory and sizes."""
    ref = next((c for c in cases if c["n"] == 1000), cases[-1])
    wall, cpu = ratio(ref, "median"), ratio(ref, "cpu_median")
    mems = [r for r in (ratio(c, "peak_kib") for c in cases) if r]
    mem = max(mems) if mems else None
    # Flatness is judged on CPU time: on the shared machine, wall time also counts waiting for a
    # CPU (the wall steps are listed under the table).
    step = max((s[2] for s in steps(cases, "cpu_median")), default=None)
    outs = [(ratio(c, "out_bytes"), ratio(c, "btf_bytes")) for c in cases]
    out = max((o for o, _ in outs if o), default=None)
    btf = max((b for _, b in outs if b), default=None)
    checked = [c["tools"][t] for c in cases for t in TOOLS if "loaded" in c["tools"][t]]
    loads_bad = sum(1 for r in checked if r.get("load_error"))
    return [
        f"{kind} (N={ref['n']})",
        verdict_cell(wall, wall is not None and wall <= WALL_MAX),
        verdict_cell(cpu, cpu is not None and cpu <= CPU_MAX),
        verdict_cell(mem, mem is not None and mem <= MEM_MAX),
        verdict_cell(step, step is not None and step <= STEP_MAX) if len(cases) > 1 else "one size",
        verdict_cell(out, out is not None and out <= 1.0, ".3f"),
        verdict_cell(btf, btf is not None and btf <= 1.0, ".3f"),
        (f"{len(checked)} outputs ok" if not loads_bad else f"**{loads_bad} of {len(checked)} failed**")
        if checked else "not checked",
    ]


def targets_table(cases):
    kinds = list(dict.fromkeys(c["kind"] for c in cases))
    lines = [
        f"| profile | wall ≤ {WALL_MAX}× | CPU ≤ {CPU_MAX}× | peak memory ≤ {MEM_MAX}× (worst N) "
        f"| per-object CPU time: largest step ≤ {STEP_MAX}× | output ≤ 1.0× | BTF ≤ 1.0× "
        "| outputs load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k in kinds:
        lines.append("| " + " | ".join(profile_targets(k, [c for c in cases if c["kind"] == k]))
                     + " |")
    return "\n".join(lines)


def machine(args):
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break

    def cmd(*a):
        try:
            return subprocess.run(a, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    commit = cmd("git", "-C", str(Path(args.bpfmerge).resolve().parent), "rev-parse", "--short",
                 "HEAD")
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
        "os": cmd("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"),
        "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "bpftool": cmd("bpftool", "version"), "clang": corpus._clang_version(),
        "bpfmerge": f"{args.bpfmerge} (git {commit})",
    }


def render(cases, mach, load_before, load_after, args):
    t = table(cases)
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} on {mach['nproc']} CPUs "
        f"({mach['cpu']}), {mach['mem_gib']} GiB, kernel {mach['kernel']}, {mach['os']}; "
        f"{mach['clang']}; {mach['bpftool'].replace(chr(10), ', ')}.",
        f"bpfmerge: `{mach['bpfmerge']}`. "
        f"Load average {load_before} before, {load_after} after "
        "(the CPUs may be shared with other jobs: hence medians of alternating runs, and CPU time next to wall time).",
        "", t, "",
        "Targets of issue 13 (ratios bpfmerge / libbpf from the same run; time at N=1000, or "
        "the profile's only N; memory, output and BTF the worst N):",
        "", targets_table(cases),
    ]
    scaling = [k for k in dict.fromkeys(c["kind"] for c in cases)
               if sum(c["kind"] == k for c in cases) > 1]
    for k in scaling:
        kc = [c for c in cases if c["kind"] == k]
        show = lambda st: ", ".join(f"{a}→{b} ×{f:.2f}" for a, b, f in st)  # noqa: E731
        lines.append("")
        lines.append(f"Per-object time steps, {k}: wall {show(steps(kc, 'median'))}; "
                     f"CPU {show(steps(kc, 'cpu_median'))}"
                     + (f"; instructions {show(steps(kc, 'instructions'))}"
                        if steps(kc, "instructions") else "") + ".")
    errs = [(c, t_) for c in cases for t_ in TOOLS if c["tools"][t_].get("error")
            or c["tools"][t_].get("load_error")]
    if errs:
        lines += ["", "Errors:", ""]
        for c, t_ in errs:
            r = c["tools"][t_]
            msg = (r.get("error") or r.get("load_error")).replace("\n", " ")[:400]
            lines.append(f"- {c['kind']} {c['n']}, {t_}: {msg}")
    ins = [c for c in cases if c["tools"]["bpfmerge"].get("instructions")]
    if ins:
        lines += ["", "bpfmerge instructions (callgrind, independent of machine load): " + ", ".join(
            f"{c['kind']} {c['n']}: {c['tools']['bpfmerge']['instructions'] / c['n'] / 1e6:.3f} M/object"
            for c in ins) + "."]
    short = "\n".join(lines)
    lines += ["", "Individual runs, wall s (CPU s):", ""]
    for c in cases:
        for t_ in TOOLS:
            r = c["tools"][t_]
            if r["runs"]:
                lines.append(f"- {c['kind']} {c['n']} {t_}: " + ", ".join(
                    f"{x:.3f} ({y:.3f})" for x, y in zip(r["runs"], r["cpu"])))
    return "\n".join(lines), short


def write_doc(full, short):
    """Replace the text between the markers: `full` in docs/bench.md, `short` (tables only) in
    README.md."""
    written = []
    for path, text in ((DOC, full), (ROOT / "README.md", short)):
        if path == DOC and not path.exists():
            path.write_text(f"# Benchmark\n\n{BEGIN}\n{END}\n")
        doc = path.read_text() if path.exists() else ""
        if BEGIN not in doc or END not in doc:
            continue
        pre, rest = doc.split(BEGIN, 1)
        _, post = rest.split(END, 1)
        path.write_text(f"{pre}{BEGIN}\n{text}\n{END}{post}")
        written.append(str(path.relative_to(ROOT)))
    return written


def loadavg():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


PROFILES = ("small", "medium", "heavy", "core", "large")
FULL_SIZES = {"small": [10, 100, 1000, 5000], "medium": [1000], "heavy": [10, 100, 1000, 5000],
              "core": [1000], "large": [10]}
QUICK_SIZES = {"small": [10, 100, 1000], "medium": [1000], "heavy": [1000], "core": [1000],
               "large": [10]}


def plan(args):
    """[(profile, [sizes])] from --profiles, --quick and --size overrides."""
    base = QUICK_SIZES if args.quick else FULL_SIZES
    sizes = {k: list(v) for k, v in base.items()}
    for spec in args.size:
        kind, _, ns = spec.partition("=")
        if kind not in PROFILES or not ns:
            raise SystemExit(f"--size {spec}: want PROFILE=N[,N...], PROFILE one of {PROFILES}")
        sizes[kind] = [int(n) for n in ns.split(",") if n]
    wanted = [k for k in args.profiles.split(",") if k]
    for k in wanted:
        if k not in PROFILES:
            raise SystemExit(f"--profiles: unknown profile {k} (one of {', '.join(PROFILES)})")
    return [(k, sorted(sizes[k])) for k in wanted if sizes[k]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bpfmerge", default=os.environ.get("BPFMERGE",
                                                          str(ROOT / "target/release/bpfmerge")))
    ap.add_argument("--profiles", default=",".join(PROFILES), help="comma-separated profiles")
    ap.add_argument("--size", action="append", default=[], metavar="PROFILE=N,N",
                    help="sizes of one profile (repeatable); defaults: " + ", ".join(
                        f"{k}={','.join(map(str, v))}" for k, v in FULL_SIZES.items()))
    ap.add_argument("--quick", action="store_true",
                    help="N=1000 per profile (small also 10, 100; large 10), 3 runs")
    ap.add_argument("--runs", type=int, default=None,
                    help="timed runs per tool (default 5, 3 with --quick; fewer when slow)")
    ap.add_argument("--budget", type=float, default=600, help="seconds before a run is killed")
    ap.add_argument("--jobs", type=int, default=2, help="parallel clang jobs")
    ap.add_argument("--load-max", type=int, default=1000,
                    help="load-check outputs of at most this many objects")
    ap.add_argument("--no-load-check", dest="load_check", action="store_false")
    ap.add_argument("--no-doc", dest="doc", action="store_false",
                    help="do not rewrite docs/bench.md and README.md")
    ap.add_argument("--instructions", action="store_true",
                    help="also count bpfmerge's instructions with callgrind (deterministic scaling)")
    ap.add_argument("--gen-only", action="store_true", help="build the corpus and stop")
    ap.add_argument("--bench", action="store_true", help=argparse.SUPPRESS)  # from cargo bench
    args = ap.parse_args()
    if args.runs is None:
        args.runs = 3 if args.quick else 5
    work = plan(args)
    OUT.mkdir(parents=True, exist_ok=True)

    # build the whole corpus first, so compilation does not overlap the timings
    for kind, sizes in work:
        corpus.ensure(kind, max(sizes), jobs=args.jobs)
    if args.gen_only:
        return 0

    args.bpfmerge = str(Path(args.bpfmerge).resolve()) if Path(args.bpfmerge).exists() else args.bpfmerge
    args.bpfmerge_ok = os.access(args.bpfmerge, os.X_OK)
    args.bpfmerge_missing = f"bpfmerge binary not found: {args.bpfmerge}"
    if not args.bpfmerge_ok:
        log(f"[bench] warning: {args.bpfmerge_missing}; measuring libbpf only")
    if args.load_check and os.geteuid() != 0:
        log("[bench] not root: load checks skipped")
        args.load_check = False

    load_before = loadavg()
    cases = [bench_case(f"{kind}-{n}", kind, n, args) for kind, sizes in work for n in sizes]
    load_after = loadavg()

    mach = machine(args)
    text, short = render(cases, mach, load_before, load_after, args)
    print(text)
    (OUT / "results.json").write_text(json.dumps({"machine": mach, "cases": cases}, indent=1))
    if args.doc:
        log(f"[bench] table written to {', '.join(write_doc(text, short))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
