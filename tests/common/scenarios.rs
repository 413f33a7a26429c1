//! The behaviour scenarios as data: which objects, which programs to run with what, and which
//! map values to read afterwards. Every expected value is derived by hand from the C sources
//! in `bpf/<scenario>/`; each `why` says how.

use std::fmt;

/// XDP return codes and tc actions used below.
pub const XDP_ABORTED: u32 = 0;
pub const XDP_DROP: u32 = 1;
pub const XDP_PASS: u32 = 2;
pub const XDP_TX: u32 = 3;
pub const TC_ACT_OK: u32 = 0;

/// Length of the packet the tests run XDP/tc programs on (see `common::packet`).
pub const PKT_LEN: u64 = 64;

pub struct Scenario {
    pub name: &'static str,
    /// Fixture stems, in link order.
    pub objects: &'static [&'static str],
    /// All programs of the linked object.
    pub progs: &'static [&'static str],
    /// All `.maps` maps of the linked object (each must appear exactly once).
    pub maps: &'static [&'static str],
    /// False when libbpf's linker cannot link the `weak/` variants into a loadable object.
    pub libbpf_linkable: bool,
    /// Relocations the linked `.maps` must have: one per initialised `.values` slot.
    pub values_relocs: usize,
    pub setup: &'static [Setup],
    pub runs: &'static [Run],
    pub checks: &'static [Check],
}

/// Done from user space after loading, before the runs.
pub enum Setup {
    /// `map[key] = fd of prog` (a prog array).
    ProgArray {
        map: &'static str,
        key: u32,
        prog: &'static str,
    },
    /// Create an ARRAY map (u32 -> u64, `max_entries`) and store it at `outer[slot]`.
    NewInnerArray {
        outer: &'static str,
        slot: u32,
        max_entries: u32,
    },
}

pub enum RunInput {
    /// XDP / tc: the 64-byte packet.
    Packet,
    /// Raw tracepoint: these u64 arguments as the context.
    RawTp(&'static [u64]),
}

pub struct Run {
    pub prog: &'static str,
    pub input: RunInput,
    pub times: u32,
    /// Expected return value of every run.
    pub ret: u32,
    pub why: &'static str,
}

pub enum Probe {
    /// `map[key]` of a map with u32 keys and u64 values.
    U64 { map: &'static str, key: u32 },
    /// Sum over CPUs of a per-CPU map's u64 `map[key]`.
    PerCpuSum { map: &'static str, key: u32 },
    /// All u64 records in a ring buffer, in order (drains it).
    Ringbuf { map: &'static str },
    /// `inner[key]` where inner is the map stored at `outer[slot]`.
    Inner {
        outer: &'static str,
        slot: u32,
        key: u32,
    },
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::U64 { map, key } => write!(f, "{map}[{key}]"),
            Probe::PerCpuSum { map, key } => write!(f, "sum over CPUs of {map}[{key}]"),
            Probe::Ringbuf { map } => write!(f, "records of {map}"),
            Probe::Inner { outer, slot, key } => write!(f, "({outer}[{slot}])[{key}]"),
        }
    }
}

pub enum Expect {
    Value(u64),
    Absent,
    Records(&'static [u64]),
    /// The test process id (`task->tgid` of the thread that ran the program).
    ProcessId,
    /// The id of the thread that ran the program (`task->pid`).
    ThreadId,
    /// libbpf's LINUX_KERNEL_VERSION for the running kernel: KERNEL_VERSION(a, b, min(c, 255))
    /// of the release `a.b.c`.
    KernelVersion,
}

pub struct Check {
    pub probe: Probe,
    pub expect: Expect,
    pub why: &'static str,
}

const fn u64_at(map: &'static str, key: u32, value: u64, why: &'static str) -> Check {
    Check {
        probe: Probe::U64 { map, key },
        expect: Expect::Value(value),
        why,
    }
}

const fn packet_run(prog: &'static str, times: u32, ret: u32, why: &'static str) -> Run {
    Run {
        prog,
        input: RunInput::Packet,
        times,
        ret,
        why,
    }
}

/// bpf/seed: a tail call across files through the shared prog array, counters shared.
pub const SEED: Scenario = Scenario {
    name: "seed",
    objects: &["seed/entry", "seed/handler"],
    progs: &["xdp_entry", "xdp_handler"],
    maps: &["counters", "xdp_actions"],
    libbpf_linkable: true,
    values_relocs: 0,
    setup: &[Setup::ProgArray {
        map: "xdp_actions",
        key: 1,
        prog: "xdp_handler",
    }],
    runs: &[
        packet_run(
            "xdp_entry",
            2,
            XDP_PASS,
            "entry.c tail-calls xdp_actions[1] = handler.c's xdp_handler, which returns XDP_PASS \
             (XDP_ABORTED would mean the prog array entry.c uses is not the one the test filled)",
        ),
        packet_run("xdp_handler", 1, XDP_PASS, "handler.c returns XDP_PASS"),
    ],
    checks: &[
        u64_at(
            "counters",
            0,
            2,
            "xdp_entry counts into counters[0] and ran twice",
        ),
        u64_at(
            "counters",
            1,
            3,
            "xdp_handler counts into counters[1]: twice through the tail call, once directly",
        ),
        u64_at("counters", 2, 0, "nobody writes counters[2]"),
    ],
};

/// bpf/statics: same-named static functions and variables stay per file.
pub const STATICS: Scenario = Scenario {
    name: "statics",
    objects: &["statics/a", "statics/b"],
    progs: &["xdp_a", "xdp_b"],
    maps: &["results", "static_hits"],
    libbpf_linkable: true,
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run("xdp_a", 2, XDP_PASS, "a.c's xdp_a returns XDP_PASS"),
        packet_run("xdp_b", 1, XDP_TX, "b.c's xdp_b returns XDP_TX"),
    ],
    checks: &[
        u64_at(
            "results",
            0,
            10 + PKT_LEN,
            "a.c's static pick(len) = 10 + 64 (b.c's gives 20 + len)",
        ),
        u64_at(
            "results",
            1,
            0xA0,
            "a.c's static const tag (.rodata) is 0xA0",
        ),
        u64_at(
            "results",
            2,
            2,
            "a.c's static runs (.bss) counts xdp_a's two runs only",
        ),
        u64_at(
            "results",
            3,
            1004,
            "a.c's static base (.data) = 1000 + 2 per xdp_a run",
        ),
        u64_at(
            "results",
            4,
            20 + PKT_LEN,
            "b.c's static put() writes slot k + 4, b.c's pick(len) = 20 + 64",
        ),
        u64_at(
            "results",
            5,
            0xB0,
            "b.c's static const tag (.rodata) is 0xB0",
        ),
        u64_at(
            "results",
            6,
            1,
            "b.c's static runs (.bss) counts xdp_b's one run only",
        ),
        u64_at(
            "results",
            7,
            2003,
            "b.c's static base (.data) = 2000 + 3 per xdp_b run",
        ),
    ],
};

const GLOBALS_RUNS: &[Run] = &[
    packet_run(
        "xdp_main",
        1,
        XDP_PASS,
        "main.c's xdp_main returns XDP_PASS",
    ),
    packet_run("xdp_lib", 1, XDP_TX, "lib.c's xdp_lib returns XDP_TX"),
];

const GLOBALS_CHECKS: &[Check] = &[
    u64_at(
        "stats",
        0,
        PKT_LEN * 3 + 7,
        "main.c calls lib.c's global scale(len) = len * 3 + mode, with the strong mode = 7",
    ),
    u64_at(
        "stats",
        1,
        7,
        "main.c's __weak mode (1) is overridden by lib.c's strong mode (7)",
    ),
    u64_at(
        "stats",
        2,
        3 + 7,
        "lib.c's xdp_lib stores scale(1) = 1 * 3 + 7",
    ),
    u64_at("stats", 3, 7, "lib.c's strong mode"),
    Check {
        probe: Probe::U64 {
            map: "stats",
            key: 4,
        },
        expect: Expect::KernelVersion,
        why: "main.c stores the .kconfig extern LINUX_KERNEL_VERSION, filled in by libbpf",
    },
    Check {
        probe: Probe::U64 {
            map: "stats",
            key: 5,
        },
        expect: Expect::KernelVersion,
        why: "lib.c stores the same .kconfig extern",
    },
];

/// bpf/globals, linked main.o then lib.o: an extern function, weak vs strong global variable and
/// an extern map declaration resolved to lib.c's definition.
pub const GLOBALS: Scenario = Scenario {
    name: "globals",
    objects: &["globals/main", "globals/lib"],
    progs: &["xdp_lib", "xdp_main"],
    maps: &["stats"],
    libbpf_linkable: true,
    values_relocs: 0,
    setup: &[],
    runs: GLOBALS_RUNS,
    checks: GLOBALS_CHECKS,
};

/// bpf/globals in the other order (definitions first): the same results.
pub const GLOBALS_LIB_FIRST: Scenario = Scenario {
    name: "globals_lib_first",
    objects: &["globals/lib", "globals/main"],
    ..GLOBALS
};

/// bpf/many: three files with overlapping subsets of six maps of different types.
pub const MANY: Scenario = Scenario {
    name: "many",
    objects: &["many/a", "many/b", "many/c"],
    progs: &["tc_c", "xdp_a", "xdp_b"],
    maps: &["arr", "hmap", "lru", "outer", "pcpu", "rb"],
    libbpf_linkable: true,
    values_relocs: 0,
    setup: &[Setup::NewInnerArray {
        outer: "outer",
        slot: 0,
        max_entries: 4,
    }],
    runs: &[
        packet_run("xdp_a", 1, XDP_PASS, "a.c's xdp_a returns XDP_PASS"),
        packet_run(
            "xdp_b",
            1,
            XDP_PASS,
            "b.c's xdp_b returns XDP_PASS when outer[0] holds the map the test put there (XDP_DROP if not)",
        ),
        packet_run(
            "tc_c",
            1,
            TC_ACT_OK,
            "c.c's tc_c returns TC_ACT_OK when outer[0] holds the test's map (TC_ACT_SHOT if not)",
        ),
    ],
    checks: &[
        u64_at("hmap", 1, 11, "a.c inserts hmap[1] = 1, then b.c adds 10"),
        Check {
            probe: Probe::U64 { map: "hmap", key: 2 },
            expect: Expect::Absent,
            why: "nobody inserts hmap[2]",
        },
        u64_at("arr", 0, 101, "a.c adds 1, c.c adds 100"),
        Check {
            probe: Probe::PerCpuSum { map: "pcpu", key: 0 },
            expect: Expect::Value(101),
            why: "a.c adds 1, c.c adds 100 (on whatever CPUs they ran)",
        },
        u64_at(
            "lru",
            7,
            1011,
            "b.c inserts lru[7] = hmap[1] as b sees it (11), c.c adds 1000",
        ),
        Check {
            probe: Probe::Ringbuf { map: "rb" },
            expect: Expect::Records(&[0xB, 0xC]),
            why: "b.c outputs 0xB, then c.c outputs 0xC, into the one ring buffer",
        },
        Check {
            probe: Probe::Inner {
                outer: "outer",
                slot: 0,
                key: 2,
            },
            expect: Expect::Value(5),
            why: "b.c adds 5 to inner[2] through outer[0]",
        },
        Check {
            probe: Probe::Inner {
                outer: "outer",
                slot: 0,
                key: 3,
            },
            expect: Expect::Value(1),
            why: "c.c adds 1 to inner[3] through outer[0]",
        },
    ],
};

/// bpf/init: `.values` initialisers of prog arrays and a map-in-map, split across files.
pub const INIT: Scenario = Scenario {
    name: "init",
    objects: &["init/decl", "init/vals"],
    progs: &[
        "xdp_chain",
        "xdp_lookup",
        "xdp_stage_a",
        "xdp_stage_b",
        "xdp_start",
        "xdp_target",
    ],
    maps: &["chain", "hits", "inner_map", "jmp", "outer"],
    // libbpf's linker keeps only one of the weak definitions and its .values relocations point
    // at the dropped one: libbpf cannot open the result ("cannot find map 'xdp_stage_a'").
    libbpf_linkable: false,
    // jmp[1] and outer[0] (vals.c), chain[0] (decl.c) and chain[1] (vals.c).
    values_relocs: 4,
    setup: &[],
    runs: &[
        packet_run(
            "xdp_start",
            1,
            XDP_TX,
            "decl.c tail-calls jmp[1], initialised in vals.c to xdp_target, which returns XDP_TX",
        ),
        packet_run(
            "xdp_lookup",
            1,
            XDP_PASS,
            "decl.c finds outer[0] (vals.c's initialiser: inner_map) and returns XDP_PASS",
        ),
        packet_run(
            "xdp_chain",
            1,
            XDP_DROP,
            "chain[0] = xdp_stage_a (decl.c's initialiser) tail-calls chain[1] = xdp_stage_b \
             (vals.c's initialiser), which returns XDP_DROP",
        ),
    ],
    checks: &[
        u64_at("hits", 0, 1, "xdp_start ran once"),
        u64_at("hits", 1, 1, "xdp_target ran once, through jmp[1]"),
        u64_at("hits", 2, 1, "xdp_chain ran once"),
        u64_at("hits", 3, 1, "xdp_stage_a ran once, through chain[0]"),
        u64_at("hits", 4, 1, "xdp_stage_b ran once, through chain[1]"),
        u64_at("hits", 5, 0, "nobody writes hits[5]"),
        u64_at(
            "inner_map",
            0,
            5,
            "xdp_lookup added 5 to inner_map[0] through outer[0]",
        ),
        Check {
            probe: Probe::Inner {
                outer: "outer",
                slot: 0,
                key: 0,
            },
            expect: Expect::Value(5),
            why: "outer[0] is inner_map",
        },
    ],
};

/// bpf/core: CO-RE relocations from two files, a tp_btf program (load and verify only) and two
/// raw tracepoint programs run with BPF_PROG_TEST_RUN.
pub const CORE: Scenario = Scenario {
    name: "core",
    objects: &["core/enter", "core/switch"],
    progs: &["rawtp_enter", "rawtp_exit", "tp_switch"],
    maps: &["core_stats"],
    libbpf_linkable: true,
    values_relocs: 0,
    setup: &[],
    runs: &[
        Run {
            prog: "rawtp_enter",
            input: RunInput::RawTp(&[0, 42]),
            times: 2,
            ret: 0,
            why: "rawtp_enter returns 0",
        },
        Run {
            prog: "rawtp_exit",
            input: RunInput::RawTp(&[0, 0]),
            times: 1,
            ret: 0,
            why: "rawtp_exit returns 0",
        },
    ],
    checks: &[
        Check {
            probe: Probe::U64 {
                map: "core_stats",
                key: 0,
            },
            expect: Expect::ProcessId,
            why: "enter.c stores current->tgid read at its CO-RE relocated offset",
        },
        u64_at("core_stats", 1, 42, "enter.c stores ctx->args[1]"),
        u64_at("core_stats", 2, 2, "enter.c counts its two runs"),
        u64_at(
            "core_stats",
            3,
            0,
            "tp_switch (switch.c) is loaded, never attached",
        ),
        u64_at("core_stats", 4, 0, "tp_switch is never attached"),
        u64_at(
            "core_stats",
            5,
            20,
            "switch.c's rawtp_exit stores enter.c's run count (core_stats[2] = 2) times 10",
        ),
        Check {
            probe: Probe::U64 {
                map: "core_stats",
                key: 6,
            },
            expect: Expect::ThreadId,
            why: "switch.c stores current->pid, the id of the thread that ran test_run",
        },
        u64_at(
            "core_stats",
            7,
            10,
            "switch.c: FIELD_EXISTS(task_struct.tgid) * 10 + FIELD_EXISTS(no_such_field) = 10 + 0",
        ),
    ],
};

/// The scenarios whose linked object must load and behave.
pub const ALL: &[&Scenario] = &[
    &SEED,
    &STATICS,
    &GLOBALS,
    &GLOBALS_LIB_FIRST,
    &MANY,
    &INIT,
    &CORE,
];
