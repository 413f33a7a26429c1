"""Synthetic corpus for the bpfmerge benchmark (used by scripts/bench.py and scripts/profile.sh).

Five profiles, each compiled with `clang -O2 -g -target bpf -DSHARED_WEAK` from a template in
bench/templates/ (`@I@` replaced by the object's index, so names are unique per object):

* small:  ~18 KB objects, the size of a libbpf-tools / xdp-tools object: 4 XDP programs, one
          static helper, two globals, 16 shared hash maps (small_maps.h).
* medium: ~65 KB objects: 10 XDP programs over a shared packet parser header (parser.h), two
          static helpers, three globals, the 16 maps of bench_maps.h.
* heavy:  ~30 KB objects with much code: 4 XDP programs, 3 static helpers whose names repeat in
          every object, one global function, globals in .data/.bss/.rodata (the corpus of the
          first benchmark), the 16 maps of bench_maps.h.
* core:   CO-RE tracing objects (tp_btf/raw_tp reading task_struct & co.) built against a
          vmlinux.h dumped from the running kernel's BTF: ~710 KB objects, ~1,200 BTF types
          (~77 KiB) each.
* large:  few large CO-RE objects (~850 KB, ~2,000 BTF types, ~144 KiB of BTF each): 9
          programs touching tasks, memory, files, block I/O, networking, BPF, timers, ...

Object i of a profile is `<profile>_NNNNN.o`; a link of N objects takes the first N, so one
corpus serves every N. The shared maps are `__weak` (-DSHARED_WEAK) and every other global is
unique per object, so libbpf's linker (`bpftool gen object`) accepts exactly the same inputs as
bpfmerge.

Corpora are cached under target/bench-corpus/<profile>-<hash>/, the hash covering the template,
the headers, GENERATOR_VERSION, the compiler's version and flags and (for CO-RE) vmlinux.h; a
rerun with nothing changed compiles nothing.
"""

import hashlib
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CACHE = ROOT / "target" / "bench-corpus"
CLANG = os.environ.get("CLANG", "clang")
# Bump when a change here changes the generated sources (templates and headers are hashed).
GENERATOR_VERSION = "2"
FLAGS = ["-O2", "-g", "-target", "bpf", "-DSHARED_WEAK", "-fdebug-compilation-dir=."]


def _clang_version():
    out = subprocess.run([CLANG, "--version"], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0]


def _hash(paths, extra):
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p).encode())
        h.update(p.read_bytes())
    h.update(extra.encode())
    return h.hexdigest()[:16]


def vmlinux_h():
    """target/bench-corpus/vmlinux.h, dumped from /sys/kernel/btf/vmlinux once (not committed)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "vmlinux.h"
    if not path.exists():
        out = subprocess.run(
            ["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"],
            capture_output=True, check=True,
        ).stdout
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(out)
        tmp.rename(path)
    return path


def _xdp_incs():
    return [ROOT / "bpf" / "include", BENCH / "include"]


def _core_incs():
    return [CACHE, BENCH / "include"]


def _inc(*names):
    return lambda: [BENCH / "include" / n for n in names]


KINDS = {
    # profile: (template, include dirs, hashed headers, programs per object)
    "small": ("small.c.in", _xdp_incs,
              lambda: [ROOT / "bpf" / "include" / "bpf_defs.h"] + _inc("small_maps.h")(), 4),
    "medium": ("medium.c.in", _xdp_incs,
               lambda: [ROOT / "bpf" / "include" / "bpf_defs.h"]
               + _inc("bench_maps.h", "parser.h")(), 10),
    "heavy": ("heavy.c.in", _xdp_incs,
              lambda: [ROOT / "bpf" / "include" / "bpf_defs.h"] + _inc("bench_maps.h")(), 4),
    "core": ("core.c.in", _core_incs,
             lambda: [vmlinux_h()] + _inc("bench_maps.h", "core_defs.h")(), 4),
    "large": ("large.c.in", _core_incs,
              lambda: [vmlinux_h()] + _inc("bench_maps.h", "core_defs.h")(), 9),
}


def programs_per_object(kind):
    return KINDS[kind][3]


def corpus_dir(kind):
    template, _, headers, _ = KINDS[kind]
    inputs = [BENCH / "templates" / template] + headers()
    key = _hash(inputs, GENERATOR_VERSION + _clang_version() + " ".join(FLAGS))
    return CACHE / f"{kind}-{key}"


def object_name(kind, i):
    return f"{kind}_{i:05d}.o"


def ensure(kind, n, jobs=2, log=sys.stderr):
    """Make sure objects 0..n-1 of `kind` exist; return (dir, [file names])."""
    template, incs, _, _ = KINDS[kind]
    d = corpus_dir(kind)
    src_dir = d / "src"
    src_dir.mkdir(parents=True, exist_ok=True)
    text = (BENCH / "templates" / template).read_text()
    names = [object_name(kind, i) for i in range(n)]
    todo = [i for i, name in enumerate(names) if not (d / name).exists()]
    if not todo:
        return d, names
    print(f"[corpus] compiling {len(todo)} {kind} objects into {d.relative_to(ROOT)} "
          f"({jobs} jobs)", file=log, flush=True)
    inc_flags = [f"-I{p}" for p in incs()]

    def build(i):
        stem = names[i][:-2]
        src = src_dir / f"{stem}.c"
        src.write_text(text.replace("@I@", str(i)))
        tmp = d / f"{stem}.o.tmp"
        r = subprocess.run([CLANG, *FLAGS, *inc_flags, "-c", src.name, "-o", str(tmp)],
                           cwd=src_dir, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"clang failed on {src}:\n{r.stderr}")
        tmp.rename(d / names[i])
        return i

    done = 0
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        for _ in ex.map(build, todo):
            done += 1
            if done % 500 == 0:
                print(f"[corpus]   {done}/{len(todo)}", file=log, flush=True)
    return d, names


if __name__ == "__main__":
    # python3 bench/corpus.py PROFILE N  -> prints the corpus dir and makes sure N objects exist
    kind, n = sys.argv[1], int(sys.argv[2])
    d, _ = ensure(kind, n)
    print(d)
