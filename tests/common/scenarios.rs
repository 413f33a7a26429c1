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
pub const TC_ACT_SHOT: u32 = 2;
pub const TC_ACT_PIPE: u32 = 3;

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
    /// Path C: whether libbpf's own linker links the `weak/` variants into an object that
    /// loads; `No(reason)` when it does not (the comparison harness then checks that it indeed
    /// fails, and prints the reason).
    pub libbpf: Applies,
    /// Path B: whether `bpfmerge load` of the separate objects (maps shared through pins) is
    /// meant to behave like the linked object; `No(reason)` when the objects only work linked
    /// (e.g. one calls a function another defines). The harness checks that it indeed fails.
    pub separately: Applies,
    /// Relocations the linked `.maps` must have: one per initialised `.values` slot.
    pub values_relocs: usize,
    pub setup: &'static [Setup],
    pub runs: &'static [Run],
    pub checks: &'static [Check],
}

/// Whether a path applies to a scenario.
#[derive(Clone, Copy, Debug)]
pub enum Applies {
    Yes,
    /// Not applicable, and why.
    No(&'static str),
}

impl Applies {
    pub fn yes(&self) -> bool {
        matches!(self, Applies::Yes)
    }
}

/// Done from user space after loading, before the runs.
pub enum Setup {
    /// `map[key] = value`, raw bytes in the target's byte order (little-endian fixtures).
    Update {
        map: &'static str,
        key: &'static [u8],
        value: &'static [u8],
    },
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
    /// XDP / tc: the 64-byte packet ([`UDP_FRAME`]).
    Packet,
    /// XDP / tc: a 64-byte frame with these headers.
    Frame(Frame),
    /// Raw tracepoint: these u64 arguments as the context.
    RawTp(&'static [u64]),
}

/// The headers of a 64-byte test frame (see `common::frame`): Ethernet with `ethertype`, then
/// (for IPv4) an IPv4 header with `proto`, `saddr`, `daddr`; everything else fixed.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    pub ethertype: u16,
    pub proto: u8,
    pub saddr: [u8; 4],
    pub daddr: [u8; 4],
}

pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_ARP: u16 = 0x0806;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;

/// The default test packet: UDP from 10.0.0.1 to 10.0.0.2.
pub const UDP_FRAME: Frame = Frame {
    ethertype: ETH_P_IP,
    proto: IPPROTO_UDP,
    saddr: [10, 0, 0, 1],
    daddr: [10, 0, 0, 2],
};

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
    /// The `lane`-th u64 of the value `map[key]` (named `field` in the C struct); for per-CPU
    /// maps the sum over CPUs.
    Field {
        map: &'static str,
        key: Key,
        lane: usize,
        field: &'static str,
    },
}

/// A map key, resolved when the scenario runs.
#[derive(Clone, Copy, Debug)]
pub enum Key {
    U32(u32),
    /// Raw bytes, e.g. an IPv4 address as it is in the packet.
    Bytes(&'static [u8]),
    /// The test process id as a u32 (`bpf_get_current_pid_tgid() >> 32`).
    ProcessId,
}

impl Key {
    pub fn bytes(&self) -> Vec<u8> {
        match *self {
            Key::U32(k) => k.to_ne_bytes().to_vec(),
            Key::Bytes(b) => b.to_vec(),
            Key::ProcessId => std::process::id().to_ne_bytes().to_vec(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::U32(k) => write!(f, "{k}"),
            Key::Bytes(b) => write!(f, "{b:?}"),
            Key::ProcessId => write!(f, "<process id>"),
        }
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::U64 { map, key } => write!(f, "{map}[{key}]"),
            Probe::PerCpuSum { map, key } => write!(f, "sum over CPUs of {map}[{key}]"),
            Probe::Ringbuf { map } => write!(f, "records of {map}"),
            Probe::Inner { outer, slot, key } => write!(f, "({outer}[{slot}])[{key}]"),
            Probe::Field {
                map,
                key,
                lane: _,
                field,
            } => write!(f, "{map}[{key}].{field}"),
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

const fn frame_run(
    prog: &'static str,
    frame: Frame,
    times: u32,
    ret: u32,
    why: &'static str,
) -> Run {
    Run {
        prog,
        input: RunInput::Frame(frame),
        times,
        ret,
        why,
    }
}

const fn raw_tp_run(prog: &'static str, args: &'static [u64], ret: u32, why: &'static str) -> Run {
    Run {
        prog,
        input: RunInput::RawTp(args),
        times: 1,
        ret,
        why,
    }
}

const fn field_at(
    map: &'static str,
    key: Key,
    (lane, field): (usize, &'static str),
    value: u64,
    why: &'static str,
) -> Check {
    Check {
        probe: Probe::Field {
            map,
            key,
            lane,
            field,
        },
        expect: Expect::Value(value),
        why,
    }
}

/// Two little-endian u32s then a u64 (the layout of `struct fw_rule` and `struct tc_config`'s
/// first half).
const fn u32_u32_u64(a: u32, b: u32, c: u64) -> [u8; 16] {
    let (a, b, c) = (a.to_le_bytes(), b.to_le_bytes(), c.to_le_bytes());
    [
        a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], c[0], c[1], c[2], c[3], c[4], c[5], c[6],
        c[7],
    ]
}

/// bpf/seed: a tail call across files through the shared prog array, counters shared.
pub const SEED: Scenario = Scenario {
    name: "seed",
    objects: &["seed/entry", "seed/handler"],
    progs: &["xdp_entry", "xdp_handler"],
    maps: &["counters", "xdp_actions"],
    libbpf: Applies::Yes,
    separately: Applies::Yes,
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
    libbpf: Applies::Yes,
    separately: Applies::Yes,
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
    libbpf: Applies::Yes,
    separately: Applies::No(
        "main.c calls scale(), a global function defined in lib.c, and reads lib.c's strong \
         `mode`: only a link resolves them, main.o alone does not load",
    ),
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
    libbpf: Applies::Yes,
    separately: Applies::Yes,
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
    libbpf: Applies::No(
        "libbpf's linker keeps only one of the weak definitions and its .values relocations \
         point at the dropped one: libbpf cannot open the result",
    ),
    separately: Applies::Yes,
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
    libbpf: Applies::Yes,
    separately: Applies::Yes,
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

/// bpf/loader_share: one file writes the shared `mailbox`, the other reads it.
pub const LOADER_SHARE: Scenario = Scenario {
    name: "loader_share",
    objects: &["loader_share/writer", "loader_share/reader"],
    progs: &["xdp_reader", "xdp_writer"],
    maps: &["mailbox"],
    libbpf: Applies::No(
        "writer.c and reader.c both define `mailbox` strongly (no SHARED macro, as in the \
         loader tests): libbpf's linker refuses two strong definitions",
    ),
    separately: Applies::Yes,
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run(
            "xdp_reader",
            1,
            XDP_DROP,
            "reader.c drops while mailbox[0] is 0",
        ),
        packet_run(
            "xdp_writer",
            1,
            XDP_PASS,
            "writer.c stores the length, passes",
        ),
        packet_run(
            "xdp_reader",
            2,
            XDP_PASS,
            "reader.c finds writer.c's mailbox[0] = 64 in the one shared map",
        ),
    ],
    checks: &[
        u64_at("mailbox", 0, PKT_LEN, "writer.c stores the packet length"),
        u64_at("mailbox", 1, 2 * PKT_LEN, "reader.c added mailbox[0] twice"),
    ],
};

const FW_ALLOWED: [u8; 4] = [10, 0, 0, 1];
const FW_BLOCKED: [u8; 4] = [10, 0, 0, 66];
const FW_UNKNOWN: [u8; 4] = [10, 0, 0, 9];
/// `struct fw_rule { action, rule_id, hits }`.
const FW_RULE_ALLOW: [u8; 16] = u32_u32_u64(XDP_PASS, 1, 0);
const FW_RULE_BLOCK: [u8; 16] = u32_u32_u64(XDP_DROP, 7, 0);
const HITS: (usize, &str) = (1, "hits");
const PACKETS: (usize, &str) = (0, "packets");
const BYTES: (usize, &str) = (1, "bytes");

/// bpf/firewall: an XDP firewall split into parser.c, policy.c and stats.c, chained by tail
/// calls through `fw_progs`, sharing the policy hash `fw_policy`, the per-CPU `fw_stats` and a
/// per-CPU scratch. Rules and prog array slots are written from user space.
pub const FIREWALL: Scenario = Scenario {
    name: "firewall",
    objects: &["firewall/parser", "firewall/policy", "firewall/stats"],
    progs: &["xdp_fw", "xdp_fw_policy", "xdp_fw_stats"],
    maps: &["fw_policy", "fw_progs", "fw_scratch", "fw_stats"],
    libbpf: Applies::Yes,
    separately: Applies::Yes,
    values_relocs: 0,
    setup: &[
        Setup::ProgArray {
            map: "fw_progs",
            key: 0,
            prog: "xdp_fw_policy",
        },
        Setup::ProgArray {
            map: "fw_progs",
            key: 1,
            prog: "xdp_fw_stats",
        },
        Setup::Update {
            map: "fw_policy",
            key: &FW_ALLOWED,
            value: &FW_RULE_ALLOW,
        },
        Setup::Update {
            map: "fw_policy",
            key: &FW_BLOCKED,
            value: &FW_RULE_BLOCK,
        },
    ],
    runs: &[
        frame_run(
            "xdp_fw",
            UDP_FRAME,
            2,
            XDP_PASS,
            "10.0.0.1 has rule 1 (XDP_PASS): parser.c -> policy.c -> stats.c, which returns it \
             (XDP_ABORTED would mean a tail call found an empty fw_progs slot)",
        ),
        frame_run(
            "xdp_fw",
            Frame {
                saddr: FW_BLOCKED,
                ..UDP_FRAME
            },
            3,
            XDP_DROP,
            "rule 7 drops 10.0.0.66",
        ),
        frame_run(
            "xdp_fw",
            Frame {
                saddr: FW_UNKNOWN,
                proto: IPPROTO_TCP,
                ..UDP_FRAME
            },
            1,
            XDP_PASS,
            "no rule for 10.0.0.9: policy.c passes it",
        ),
        frame_run(
            "xdp_fw",
            Frame {
                ethertype: ETH_P_ARP,
                ..UDP_FRAME
            },
            1,
            XDP_PASS,
            "not IPv4: parser.c jumps straight to stats.c with XDP_PASS",
        ),
    ],
    checks: &[
        field_at(
            "fw_policy",
            Key::Bytes(&FW_ALLOWED),
            HITS,
            2,
            "policy.c counted the two packets of 10.0.0.1 in the rule user space wrote",
        ),
        field_at(
            "fw_policy",
            Key::Bytes(&FW_BLOCKED),
            HITS,
            3,
            "policy.c counted the three packets of 10.0.0.66",
        ),
        Check {
            probe: Probe::Field {
                map: "fw_policy",
                key: Key::Bytes(&FW_UNKNOWN),
                lane: 1,
                field: "hits",
            },
            expect: Expect::Absent,
            why: "policy.c never inserts rules",
        },
        field_at(
            "fw_stats",
            Key::U32(0),
            PACKETS,
            3,
            "slot 0 (passed by policy): two packets of 10.0.0.1, one of 10.0.0.9",
        ),
        field_at(
            "fw_stats",
            Key::U32(0),
            BYTES,
            3 * PKT_LEN,
            "three 64-byte packets",
        ),
        field_at(
            "fw_stats",
            Key::U32(1),
            PACKETS,
            3,
            "slot 1 (dropped): three packets of 10.0.0.66",
        ),
        field_at(
            "fw_stats",
            Key::U32(1),
            BYTES,
            3 * PKT_LEN,
            "three 64-byte packets",
        ),
        field_at(
            "fw_stats",
            Key::U32(2),
            PACKETS,
            1,
            "slot 2 (not IPv4): the ARP frame",
        ),
        field_at("fw_stats", Key::U32(2), BYTES, PKT_LEN, "one 64-byte frame"),
        field_at(
            "fw_stats",
            Key::U32(3),
            PACKETS,
            0,
            "nobody counts into slot 3",
        ),
    ],
};

/// `struct tc_config { enabled, udp_action, tcp_action, pad }`.
const TC_CONFIG: [u8; 16] = u32_u32_u64(1, TC_ACT_SHOT, TC_ACT_PIPE as u64);

/// bpf/tc_pair: a tc classifier (classify.c) and its per-class actions (actions.c), sharing
/// the configuration array `tc_config` (written from user space), the prog array `tc_jmp` for
/// the tail calls (filled from user space) and the counters `tc_hits`.
pub const TC_PAIR: Scenario = Scenario {
    name: "tc_pair",
    objects: &["tc_pair/classify", "tc_pair/actions"],
    progs: &["tc_classify", "tc_tcp", "tc_udp"],
    maps: &["tc_config", "tc_hits", "tc_jmp"],
    libbpf: Applies::Yes,
    separately: Applies::Yes,
    values_relocs: 0,
    setup: &[
        Setup::Update {
            map: "tc_config",
            key: &[0; 4],
            value: &TC_CONFIG,
        },
        Setup::ProgArray {
            map: "tc_jmp",
            key: 1,
            prog: "tc_udp",
        },
        Setup::ProgArray {
            map: "tc_jmp",
            key: 2,
            prog: "tc_tcp",
        },
    ],
    runs: &[
        frame_run(
            "tc_classify",
            UDP_FRAME,
            2,
            TC_ACT_SHOT,
            "UDP: classify.c tail-calls tc_jmp[1] = actions.c's tc_udp, which returns the \
             configured udp_action (TC_ACT_SHOT)",
        ),
        frame_run(
            "tc_classify",
            Frame {
                proto: IPPROTO_TCP,
                ..UDP_FRAME
            },
            1,
            TC_ACT_PIPE,
            "TCP: tc_jmp[2] = tc_tcp returns the configured tcp_action (TC_ACT_PIPE)",
        ),
        frame_run(
            "tc_classify",
            Frame {
                ethertype: ETH_P_ARP,
                ..UDP_FRAME
            },
            1,
            TC_ACT_OK,
            "other: tc_jmp[0] is empty, classify.c falls through to TC_ACT_OK",
        ),
        packet_run(
            "tc_tcp",
            1,
            TC_ACT_PIPE,
            "tc_tcp run directly reads the same configuration",
        ),
    ],
    checks: &[
        u64_at(
            "tc_hits",
            0,
            1,
            "classify.c counted one packet of class other",
        ),
        u64_at("tc_hits", 1, 2, "classify.c counted two UDP packets"),
        u64_at("tc_hits", 2, 1, "classify.c counted one TCP packet"),
        u64_at(
            "tc_hits",
            3,
            2 * PKT_LEN,
            "actions.c's tc_tcp added skb->len twice (tail call, direct run)",
        ),
    ],
};

const SYS_EXIT_GROUP: u64 = 231;
const LAST_ID: (usize, &str) = (0, "last_id");
const ENTERS: (usize, &str) = (1, "enters");
const EXITS: (usize, &str) = (2, "exits");
const RET_SUM: (usize, &str) = (3, "ret_sum");

/// bpf/trace: two raw tracepoint programs (syscall entry in enter.c, exit in exit.c) sharing
/// the per-process state hash `pid_states` and the ring buffer `events`.
pub const TRACE: Scenario = Scenario {
    name: "trace",
    objects: &["trace/enter", "trace/exit"],
    progs: &["trace_enter", "trace_exit"],
    maps: &["events", "pid_states"],
    libbpf: Applies::Yes,
    separately: Applies::Yes,
    values_relocs: 0,
    setup: &[],
    runs: &[
        raw_tp_run(
            "trace_exit",
            &[0, 7],
            1,
            "no state for this process yet: exit.c returns 1",
        ),
        raw_tp_run(
            "trace_enter",
            &[0, 0],
            0,
            "enter.c creates the state (last_id 0)",
        ),
        raw_tp_run(
            "trace_exit",
            &[0, 5],
            0,
            "exit.c finds enter.c's state, emits (0 << 32) | 5",
        ),
        raw_tp_run(
            "trace_enter",
            &[0, SYS_EXIT_GROUP],
            0,
            "exit_group: enter.c deletes the state",
        ),
        raw_tp_run(
            "trace_exit",
            &[0, 9],
            1,
            "the state is gone: exit.c returns 1, emits nothing",
        ),
        Run {
            prog: "trace_enter",
            input: RunInput::RawTp(&[0, 1]),
            times: 2,
            ret: 0,
            why: "enter.c creates a fresh state, then counts the second entry",
        },
        raw_tp_run("trace_exit", &[0, 3], 0, "exit.c emits (1 << 32) | 3"),
    ],
    checks: &[
        field_at(
            "pid_states",
            Key::ProcessId,
            LAST_ID,
            1,
            "the last entry was id 1",
        ),
        field_at(
            "pid_states",
            Key::ProcessId,
            ENTERS,
            2,
            "two entries since the state was recreated",
        ),
        field_at(
            "pid_states",
            Key::ProcessId,
            EXITS,
            1,
            "one exit since then",
        ),
        field_at(
            "pid_states",
            Key::ProcessId,
            RET_SUM,
            3,
            "its return value 3",
        ),
        Check {
            probe: Probe::Ringbuf { map: "events" },
            expect: Expect::Records(&[5, (1 << 32) | 3]),
            why: "exit.c emitted one event per exit that found enter.c's state",
        },
    ],
};

/// `struct flow { saddr = 1, daddr = 2 }`, the key both typedef_keys programs use.
const FLOW_1_2: [u8; 8] = [1, 0, 0, 0, 2, 0, 0, 0];

/// bpf/typedef_keys: one map whose key and value types are spelled through different typedefs
/// in the two files (`u32` as in vmlinux.h, `__u32` as in linux/types.h).
pub const TYPEDEF_KEYS: Scenario = Scenario {
    name: "typedef_keys",
    objects: &["typedef_keys/vmlinux_style", "typedef_keys/uapi_style"],
    progs: &["xdp_uapi", "xdp_vm"],
    maps: &["flows"],
    libbpf: Applies::No(
        "both files define `flows` strongly (no SHARED macro): libbpf's linker refuses two \
         strong definitions",
    ),
    separately: Applies::Yes,
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run(
            "xdp_uapi",
            1,
            XDP_DROP,
            "uapi_style.c finds no flow {1, 2} yet",
        ),
        packet_run(
            "xdp_vm",
            1,
            XDP_PASS,
            "vmlinux_style.c sets flows[{1, 2}] = 1",
        ),
        packet_run(
            "xdp_uapi",
            2,
            XDP_PASS,
            "uapi_style.c finds vmlinux_style.c's entry in the one map and adds 1",
        ),
    ],
    checks: &[field_at(
        "flows",
        Key::Bytes(&FLOW_1_2),
        (0, "value"),
        3,
        "1 from xdp_vm, plus 1 for each of the two later xdp_uapi runs",
    )],
};

/// String literals in `.rodata.str1.1` (a mergeable section) of two files: each program reads
/// its own file's literal (found linking real-world-shaped clang-19 sources, see
/// bpf/cc19_strings/strings.h).
pub const CC19_STRINGS: Scenario = Scenario {
    name: "cc19_strings",
    objects: &["cc19_strings/alpha", "cc19_strings/bravo"],
    progs: &["xdp_alpha", "xdp_bravo"],
    maps: &["picked"],
    libbpf: Applies::Yes,
    separately: Applies::Yes,
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run("xdp_alpha", 1, XDP_PASS, "alpha_index 1 < 5"),
        packet_run("xdp_bravo", 1, XDP_PASS, "bravo_index 3 < 5"),
    ],
    checks: &[
        u64_at(
            "picked",
            0,
            b'l' as u64,
            "alpha.c: \"alpha\"[alpha_index = 1]",
        ),
        u64_at(
            "picked",
            1,
            b'v' as u64,
            "bravo.c: \"bravo\"[bravo_index = 3]",
        ),
    ],
};

/// bpf/values_plain: a prog array and a map-in-map declared plainly in plain.c (value type
/// `__u32`, value_size 4) and with `values` initialisers in vals.c: one definition for libbpf
/// (`values` means value_size 4); both files' programs use the initialised maps.
pub const VALUES_PLAIN: Scenario = Scenario {
    name: "values_plain",
    objects: &["values_plain/plain", "values_plain/vals"],
    progs: &[
        "xdp_plain_lookup",
        "xdp_plain_tail",
        "xdp_target",
        "xdp_vals_lookup",
        "xdp_vals_tail",
    ],
    maps: &["hits", "inner_map", "jmp", "outer"],
    libbpf: Applies::No(
        "libbpf's linker keeps the first (plain) weak definition and leaves vals.c's `.values` \
         relocations on the dropped one: libbpf cannot open the result",
    ),
    separately: Applies::No(
        "plain.c's map-in-map declaration has no inner map definition, so libbpf cannot create \
         `outer` from plain.c loaded first; only the linked object has vals.c's definition",
    ),
    // jmp[0] and outer[0], both vals.c's.
    values_relocs: 2,
    setup: &[],
    runs: &[
        packet_run(
            "xdp_plain_tail",
            1,
            XDP_TX,
            "plain.c tail-calls jmp[0], initialised in vals.c to xdp_target (XDP_TX)",
        ),
        packet_run(
            "xdp_vals_tail",
            1,
            XDP_TX,
            "vals.c tail-calls jmp[0] = xdp_target (XDP_TX)",
        ),
        packet_run(
            "xdp_plain_lookup",
            1,
            XDP_PASS,
            "plain.c finds outer[0] (vals.c's initialiser: inner_map), returns XDP_PASS",
        ),
        packet_run(
            "xdp_vals_lookup",
            1,
            XDP_PASS,
            "vals.c finds outer[0] = inner_map, returns XDP_PASS",
        ),
    ],
    checks: &[
        u64_at("hits", 0, 1, "xdp_plain_tail ran once"),
        u64_at(
            "hits",
            1,
            2,
            "xdp_target ran twice: through jmp[0] from plain.c and from vals.c",
        ),
        u64_at("hits", 2, 1, "xdp_vals_tail ran once"),
        u64_at(
            "inner_map",
            0,
            12,
            "plain.c added 7 and vals.c added 5 to inner_map[0], both through outer[0]",
        ),
        Check {
            probe: Probe::Inner {
                outer: "outer",
                slot: 0,
                key: 0,
            },
            expect: Expect::Value(12),
            why: "outer[0] is inner_map",
        },
    ],
};

/// bpf/static_maps: same-named static maps; `map_static` differs (HASH in a.c, ARRAY in b.c)
/// and is kept apart (b.c's renamed `map_static_2`), `map_same` agrees and is one map.
pub const STATIC_MAPS: Scenario = Scenario {
    name: "static_maps",
    objects: &["static_maps/a", "static_maps/b"],
    progs: &["xdp_static_a", "xdp_static_b"],
    maps: &["map_same", "map_static", "map_static_2"],
    libbpf: Applies::No(
        "libbpf's linker keeps both static `map_static` definitions under one name, so the \
         result cannot be loaded with its maps pinned by name",
    ),
    separately: Applies::No(
        "both objects name a map `map_static` with different definitions: sharing maps by name \
         pins one and refuses the other",
    ),
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run(
            "xdp_static_a",
            2,
            XDP_PASS,
            "a.c's xdp_static_a returns XDP_PASS",
        ),
        packet_run(
            "xdp_static_b",
            1,
            XDP_TX,
            "b.c's xdp_static_b finds slot 1 of its ARRAY map_static and returns XDP_TX \
             (XDP_ABORTED if it used a.c's HASH, where key 1 is only there after a run)",
        ),
    ],
    checks: &[
        u64_at(
            "map_static",
            1,
            100,
            "a.c's HASH map_static[1] = 100 (b.c's += 200 went to its own map)",
        ),
        u64_at(
            "map_static_2",
            1,
            200,
            "b.c's ARRAY map_static (output name map_static_2)[1] += 200 once",
        ),
        u64_at("map_static_2", 0, 0, "nobody writes b.c's map_static[0]"),
        u64_at(
            "map_same",
            0,
            2 + 10,
            "the one map_same: a.c adds 1 per run (twice), b.c adds 10 (once)",
        ),
    ],
};

/// bpf/empty_section: funcs.c has a naked empty function in a section of its own (no
/// instructions, one func_info record); both files' programs link, load and run.
pub const EMPTY_SECTION: Scenario = Scenario {
    name: "empty_section",
    objects: &["empty_section/funcs", "empty_section/other"],
    progs: &["xdp_funcs", "xdp_other"],
    maps: &["counts"],
    libbpf: Applies::Yes,
    separately: Applies::Yes,
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run(
            "xdp_funcs",
            2,
            XDP_PASS,
            "funcs.c's xdp_funcs returns XDP_PASS",
        ),
        packet_run("xdp_other", 1, XDP_TX, "other.c's xdp_other returns XDP_TX"),
    ],
    checks: &[
        u64_at(
            "counts",
            0,
            2,
            "xdp_funcs adds 1 to counts[0] per run, ran twice",
        ),
        u64_at("counts", 1, 3, "xdp_other adds 3 to counts[1], ran once"),
    ],
};

/// bpf/fold: shared.h's global `__noinline` subprogram `scale`, `const volatile` knob and map,
/// included by main.c and tool.c: the identical copies fold into one (fold_differ/differ.c's
/// different `scale` is the error case, tests/link_semantics.rs).
pub const FOLD: Scenario = Scenario {
    name: "fold",
    objects: &["fold/main", "fold/tool"],
    progs: &["xdp_main", "xdp_tool"],
    maps: &["fold_stats"],
    libbpf: Applies::No(
        "both files define `scale` and `knob` strongly (from shared.h): libbpf's linker refuses \
         duplicate strong definitions",
    ),
    separately: Applies::Yes,
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run(
            "xdp_main",
            1,
            XDP_PASS,
            "main.c's xdp_main returns XDP_PASS",
        ),
        packet_run("xdp_tool", 1, XDP_TX, "tool.c's xdp_tool returns XDP_TX"),
    ],
    checks: &[
        u64_at(
            "fold_stats",
            0,
            2 * PKT_LEN + 1,
            "main.c stores scale(len) = 2 * 64 + knob (1)",
        ),
        u64_at(
            "fold_stats",
            1,
            2 * (PKT_LEN + 1) + 1,
            "tool.c stores scale(len + 1) = 2 * 65 + knob (1)",
        ),
        u64_at(
            "fold_stats",
            2,
            PKT_LEN + 100 + 7,
            "tool.c's static add100(len) = 64 + 100 + its static bias (7): a section-relative \
             call and .rodata load that moved when tool.c's copies of scale and knob were cut",
        ),
        u64_at(
            "fold_stats",
            3,
            2,
            "scale counts its calls in fold_stats[3]: once from each program",
        ),
    ],
};

/// bpf/fold_sample: two tools that each carry the same raw tracepoint programs and stats map
/// from sample.h (like xdp-tools' xdp_sample programs): the programs fold into one each.
pub const FOLD_SAMPLE: Scenario = Scenario {
    name: "fold_sample",
    objects: &["fold_sample/basic", "fold_sample/cpumap"],
    progs: &[
        "tp_xdp_exception",
        "tp_xdp_redirect",
        "xdp_basic",
        "xdp_cpumap",
    ],
    maps: &["sample_stats"],
    libbpf: Applies::No(
        "both tools define the sample programs strongly: libbpf's linker refuses duplicate \
         strong definitions",
    ),
    separately: Applies::Yes,
    values_relocs: 0,
    setup: &[],
    runs: &[
        raw_tp_run(
            "tp_xdp_exception",
            &[0, 0, 5],
            0,
            "sample.h's tp_xdp_exception returns 0",
        ),
        raw_tp_run(
            "tp_xdp_redirect",
            &[0],
            0,
            "sample.h's tp_xdp_redirect returns 0",
        ),
        packet_run(
            "xdp_basic",
            1,
            XDP_PASS,
            "basic.c's xdp_basic returns XDP_PASS",
        ),
        packet_run(
            "xdp_cpumap",
            1,
            XDP_TX,
            "cpumap.c's xdp_cpumap returns XDP_TX",
        ),
    ],
    checks: &[
        u64_at(
            "sample_stats",
            0,
            5,
            "tp_xdp_exception adds its args[2] (5) to sample_stats[0]",
        ),
        u64_at("sample_stats", 1, 1, "tp_xdp_redirect ran once"),
        u64_at("sample_stats", 2, 1, "xdp_basic ran once"),
        u64_at("sample_stats", 3, 1, "xdp_cpumap ran once"),
    ],
};

/// bpf/externs: `__kconfig` and `__ksym` (kfunc) externs declared in both files stay one
/// extern each in the linked object; libbpf resolves them at load time.
pub const EXTERNS: Scenario = Scenario {
    name: "externs",
    objects: &["externs/a", "externs/b"],
    progs: &["xdp_ext_a", "xdp_ext_b"],
    maps: &["ext_stats"],
    libbpf: Applies::Yes,
    separately: Applies::Yes,
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run("xdp_ext_a", 1, XDP_PASS, "a.c's xdp_ext_a returns XDP_PASS"),
        packet_run("xdp_ext_b", 1, XDP_TX, "b.c's xdp_ext_b returns XDP_TX"),
    ],
    checks: &[
        u64_at(
            "ext_stats",
            0,
            1,
            "a.c: CONFIG_BPF_SYSCALL is y (1) on any kernel that runs BPF",
        ),
        u64_at(
            "ext_stats",
            1,
            1,
            "a.c called the kfuncs bpf_rcu_read_lock/unlock (the program only loads when the \
             .ksyms externs resolve)",
        ),
        Check {
            probe: Probe::U64 {
                map: "ext_stats",
                key: 2,
            },
            expect: Expect::KernelVersion,
            why: "a.c stores the .kconfig extern LINUX_KERNEL_VERSION, filled in by libbpf",
        },
        u64_at("ext_stats", 3, 1, "b.c: CONFIG_BPF_SYSCALL"),
        u64_at("ext_stats", 4, 1, "b.c called the same kfuncs"),
        Check {
            probe: Probe::U64 {
                map: "ext_stats",
                key: 5,
            },
            expect: Expect::KernelVersion,
            why: "b.c stores the same LINUX_KERNEL_VERSION",
        },
        u64_at("ext_stats", 6, 0, "nobody writes ext_stats[6]"),
    ],
};

/// bpf/fold_static_maps: a header's static map (one definition: merged) used by the header's
/// global `__noinline` function: both copies reach the one map and fold.
pub const FOLD_STATIC_MAPS: Scenario = Scenario {
    name: "fold_static_maps",
    objects: &["fold_static_maps/x", "fold_static_maps/y"],
    progs: &["xdp_x", "xdp_y"],
    maps: &["hdr_map"],
    libbpf: Applies::No(
        "both files define `bump_hdr` strongly: libbpf's linker refuses duplicate strong \
         definitions (and libbpf refuses static maps)",
    ),
    separately: Applies::Yes,
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run(
            "xdp_x",
            1,
            XDP_PASS,
            "x.c: bump_hdr(1) returns 1, so XDP_PASS",
        ),
        packet_run(
            "xdp_y",
            1,
            XDP_TX,
            "y.c: bump_hdr(10) returns 10, so XDP_TX",
        ),
    ],
    checks: &[
        u64_at(
            "hdr_map",
            0,
            1 + 10,
            "the folded bump_hdr added 1 (x.c) and 10 (y.c) to the one hdr_map[0]",
        ),
        u64_at("hdr_map", 1, 0, "nobody writes hdr_map[1]"),
    ],
};

/// bpf/hidden_vis: visibility is "contaminating" (libbpf's linker): def.c defines take_second
/// and take_third with default visibility; use.c declares take_second `__hidden extern`, weak.c
/// has a losing `__weak __hidden` take_third. Both become hidden in the output, so the kernel
/// verifies them as static subprograms with their callers' arrays (as global functions, whose
/// `__u64 *p` argument is one u64, p[1] and p[2] would be refused).
pub const HIDDEN_VIS: Scenario = Scenario {
    name: "hidden_vis",
    objects: &["hidden_vis/use", "hidden_vis/def", "hidden_vis/weak"],
    progs: &["xdp_vis_use", "xdp_vis_def", "xdp_vis_weak"],
    maps: &["vis_counts"],
    libbpf: Applies::Yes,
    separately: Applies::No("use.c calls take_second, which only def.c defines"),
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run(
            "xdp_vis_use",
            1,
            XDP_TX,
            "use.c: take_second({XDP_DROP, XDP_TX}) returns p[1] = XDP_TX",
        ),
        packet_run(
            "xdp_vis_def",
            2,
            XDP_PASS,
            "def.c's xdp_vis_def returns XDP_PASS",
        ),
        packet_run(
            "xdp_vis_weak",
            1,
            XDP_PASS,
            "weak.c: def.c's strong take_third wins and returns p[2] of \
             {XDP_DROP, XDP_ABORTED, XDP_PASS} = XDP_PASS (weak.c's own would return XDP_DROP)",
        ),
    ],
    checks: &[
        u64_at(
            "vis_counts",
            0,
            2,
            "xdp_vis_def adds 1 to vis_counts[0], ran twice",
        ),
        u64_at(
            "vis_counts",
            1,
            10,
            "xdp_vis_use adds 10 to vis_counts[1], ran once",
        ),
        u64_at(
            "vis_counts",
            2,
            100,
            "xdp_vis_weak adds 100 to vis_counts[2], ran once",
        ),
    ],
};

/// bpf/extern_types: externs declared with their definition's types (libbpf's linker checks
/// them; extern_types_bad/ holds the declarations it refuses, tests/link_realworld.rs): use.c's
/// `extern int counter` and `extern long combine(long, long)` resolve to def.c's definitions,
/// use.c and kc.c declare the `.kconfig` LINUX_KERNEL_VERSION alike (one extern in the output).
pub const EXTERN_TYPES: Scenario = Scenario {
    name: "extern_types",
    objects: &["extern_types/def", "extern_types/use", "extern_types/kc"],
    progs: &["xdp_et_def", "xdp_et_use", "xdp_et_kc"],
    maps: &["et_out"],
    libbpf: Applies::Yes,
    separately: Applies::No("use.c reads def.c's counter and calls its combine"),
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run("xdp_et_def", 2, XDP_PASS, "def.c: after is -1, so XDP_PASS"),
        packet_run(
            "xdp_et_use",
            1,
            XDP_TX,
            "use.c: counter (4 bytes, not widened into `after`) is 7, so XDP_TX",
        ),
        packet_run("xdp_et_kc", 1, XDP_PASS, "kc.c returns XDP_PASS"),
    ],
    checks: &[
        u64_at(
            "et_out",
            0,
            14,
            "xdp_et_def adds counter = 7 to et_out[0], ran twice",
        ),
        u64_at(
            "et_out",
            1,
            73,
            "use.c stores combine(counter, 3) = 7 * 10 + 3 (def.c's combine)",
        ),
        Check {
            probe: Probe::U64 {
                map: "et_out",
                key: 2,
            },
            expect: Expect::KernelVersion,
            why: "use.c stores the .kconfig extern LINUX_KERNEL_VERSION, filled in by libbpf",
        },
        Check {
            probe: Probe::U64 {
                map: "et_out",
                key: 3,
            },
            expect: Expect::KernelVersion,
            why: "kc.c stores the same .kconfig extern",
        },
    ],
};

/// bpf/typed_survivor: map `guarded` declared with key/value types (typed.c, whose value holds
/// a bpf_spin_lock) and with sizes only (sizes.c). The typed definition is kept in either
/// order (docs/link.md R4), so the map keeps its BTF and the kernel accepts the lock.
const TYPED_SURVIVOR_RUNS: &[Run] = &[
    packet_run(
        "xdp_typed",
        2,
        XDP_PASS,
        "typed.c takes the lock, adds 5 to total, returns XDP_PASS",
    ),
    packet_run(
        "xdp_sizes",
        1,
        XDP_TX,
        "sizes.c adds 100 to the value's second u64, returns XDP_TX",
    ),
];
const TYPED_SURVIVOR_CHECKS: &[Check] = &[Check {
    probe: Probe::Field {
        map: "guarded",
        key: Key::U32(0),
        lane: 1,
        field: "total",
    },
    expect: Expect::Value(2 * 5 + 100),
    why: "xdp_typed added 5 twice and xdp_sizes 100 once to the one map's total",
}];
const TYPED_SURVIVOR_LIBBPF: &str = "both files define `guarded` strongly, and libbpf's linker \
     refuses a sizes-only definition against a typed one (map key type mismatch)";

pub const TYPED_SURVIVOR: Scenario = Scenario {
    name: "typed_survivor",
    objects: &["typed_survivor/sizes", "typed_survivor/typed"],
    progs: &["xdp_sizes", "xdp_typed"],
    maps: &["guarded"],
    libbpf: Applies::No(TYPED_SURVIVOR_LIBBPF),
    separately: Applies::No(
        "sizes.o loaded first creates `guarded` without BTF types, and typed.o's bpf_spin_lock \
         needs them",
    ),
    values_relocs: 0,
    setup: &[],
    runs: TYPED_SURVIVOR_RUNS,
    checks: TYPED_SURVIVOR_CHECKS,
};

/// typed_survivor with the typed definition first.
pub const TYPED_SURVIVOR_TYPED_FIRST: Scenario = Scenario {
    name: "typed_survivor_typed_first",
    objects: &["typed_survivor/typed", "typed_survivor/sizes"],
    progs: &["xdp_typed", "xdp_sizes"],
    separately: Applies::Yes,
    ..TYPED_SURVIVOR
};

/// bpf/weak_promote: lib.c's weak `policy` (x + 1) used by its own program and, through a
/// plain extern, by user.c's: the link resolves both calls to it (and makes it GLOBAL, checked
/// in tests/link_realworld.rs).
pub const WEAK_PROMOTE: Scenario = Scenario {
    name: "weak_promote",
    objects: &["weak_promote/lib", "weak_promote/user"],
    progs: &["xdp_wp_lib", "xdp_wp_user"],
    maps: &["wp_out"],
    libbpf: Applies::Yes,
    separately: Applies::No("user.c calls policy, which only lib.c defines"),
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run(
            "xdp_wp_lib",
            2,
            XDP_PASS,
            "lib.c: policy(1) = 1 + 1 = XDP_PASS",
        ),
        packet_run(
            "xdp_wp_user",
            1,
            XDP_TX,
            "user.c: policy(2) = 2 + 1 = XDP_TX",
        ),
    ],
    checks: &[
        u64_at("wp_out", 0, 4, "xdp_wp_lib adds policy(1) = 2, ran twice"),
        u64_at("wp_out", 1, 3, "xdp_wp_user adds policy(2) = 3, ran once"),
    ],
};

/// bpf/license_once: the same license and version strings under different names in two
/// files (one.c `LICENSE`/`VERSION`, two.c `_license`/`_version`): kept once, both programs
/// run (the symbol and BTF checks are in tests/link_realworld.rs).
pub const LICENSE_ONCE: Scenario = Scenario {
    name: "license_once",
    objects: &["license_once/one", "license_once/two"],
    progs: &["xdp_lic_one", "xdp_lic_two"],
    maps: &["lic_runs"],
    libbpf: Applies::Yes,
    separately: Applies::Yes,
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run("xdp_lic_one", 1, XDP_PASS, "one.c returns XDP_PASS"),
        packet_run("xdp_lic_two", 2, XDP_TX, "two.c returns XDP_TX"),
    ],
    checks: &[
        u64_at(
            "lic_runs",
            0,
            1,
            "xdp_lic_one counts its one run in lic_runs[0]",
        ),
        u64_at(
            "lic_runs",
            1,
            2,
            "xdp_lic_two counts its two runs in lic_runs[1]",
        ),
    ],
};

/// bpf/extern_call: caller.c calls callee.c's global `triple` (3 * x) through an extern; its
/// FUNC_PROTO leaves the output once resolved (tests/link_realworld.rs).
pub const EXTERN_CALL: Scenario = Scenario {
    name: "extern_call",
    objects: &["extern_call/caller", "extern_call/callee"],
    progs: &["xdp_ec_caller", "xdp_ec_callee"],
    maps: &["ec_out"],
    libbpf: Applies::Yes,
    separately: Applies::No("caller.c calls triple, which only callee.c defines"),
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run(
            "xdp_ec_caller",
            2,
            XDP_TX,
            "caller.c returns triple(1) = 3 = XDP_TX",
        ),
        packet_run(
            "xdp_ec_callee",
            1,
            XDP_PASS,
            "callee.c returns triple(1) - 1 = 2 = XDP_PASS",
        ),
    ],
    checks: &[
        u64_at("ec_out", 0, 30, "caller.c adds triple(5) = 15, ran twice"),
        u64_at("ec_out", 1, 21, "callee.c adds triple(7) = 21, ran once"),
    ],
};

/// bpf/proto_copy: caller.c calls callee.c's global `quad` (4 * x) through an extern whose
/// prototype nothing else in caller.c uses, so the link sends it to the definition's; ops.c's
/// function-pointer member has a copy of that prototype, which the output must then keep in
/// its place (BTF the kernel accepts: caller.c's call of a global function needs it).
pub const PROTO_COPY: Scenario = Scenario {
    name: "proto_copy",
    objects: &["proto_copy/caller", "proto_copy/ops", "proto_copy/callee"],
    progs: &["xdp_pc_caller", "xdp_pc_ops", "xdp_pc_callee"],
    maps: &["pc_out"],
    libbpf: Applies::Yes,
    separately: Applies::No("caller.c calls quad, which only callee.c defines"),
    values_relocs: 0,
    setup: &[],
    runs: &[
        packet_run(
            "xdp_pc_caller",
            2,
            XDP_PASS,
            "caller.c returns quad(1) - 2 = 2 = XDP_PASS",
        ),
        packet_run("xdp_pc_ops", 3, XDP_PASS, "ops.c returns XDP_PASS"),
        packet_run(
            "xdp_pc_callee",
            1,
            XDP_PASS,
            "callee.c returns quad(1) - 2 = 2 = XDP_PASS",
        ),
    ],
    checks: &[
        u64_at("pc_out", 0, 40, "caller.c adds quad(5) = 20, ran twice"),
        u64_at(
            "pc_out",
            1,
            120,
            "ops.c adds pc_table.bias = 40 (cb is null), ran three times",
        ),
        u64_at("pc_out", 2, 12, "callee.c adds quad(3) = 12, ran once"),
    ],
};

/// Folders of `bpf/` that are no comparison scenario, and why (every other folder is used by a
/// scenario of [`ALL`]; the comparison harness checks that).
pub const NOT_COMPARED: &[(&str, &str)] = &[
    (
        "weak_promote_relink",
        "a second strong `policy` for relinking weak_promote's output (tests/link_realworld.rs)",
    ),
    (
        "ulong_extra",
        "`__ulong(map_extra, N)`, which bpftool 7.1's libbpf 1.1 cannot open: linked and run with \
         libbpf-rs in tests/link_realworld.rs",
    ),
    (
        "ulong_extra_link",
        "an arena at a machine-specific address: link-time checks only (tests/link_realworld.rs)",
    ),
    (
        "extern_types_bad",
        "externs whose types disagree with their definition: link-time errors \
         (tests/link_realworld.rs)",
    ),
    (
        "attach_cgroup",
        "versions of one program swapped by `load --attach` (tests/attach_cgroup.rs)",
    ),
    (
        "attach_net",
        "versions of one program swapped by `load --attach` under traffic (tests/attach_net.rs)",
    ),
    (
        "attach_pair",
        "compared attached to a veth pair, separate vs linked (tests/attach_compare.rs)",
    ),
    (
        "attach_struct_ops",
        "versions of one struct_ops map swapped by `load --attach` (tests/attach_struct_ops.rs)",
    ),
    (
        "attach_trace",
        "attached to tracepoints/fentry/lsm by `load --attach` (tests/attach_trace.rs)",
    ),
    (
        "bad_values",
        "map definitions libbpf refuses (`values` misused, conflicting sizes): linking must \
         fail (tests/link_semantics.rs)",
    ),
    ("conflict_endian", CONFLICT),
    ("conflict_func", CONFLICT),
    ("conflict_key_type", CONFLICT),
    ("conflict_license", CONFLICT),
    ("conflict_map_type", CONFLICT),
    ("conflict_max_entries", CONFLICT),
    ("conflict_pinning", CONFLICT),
    ("conflict_values", CONFLICT),
    (
        "fold_differ",
        "a copy of fold's `scale` that differs: linking it with fold/main must fail, naming \
         the first differing instruction (tests/link_semantics.rs)",
    ),
    (
        "loader_adjust",
        "definitions that differ on purpose (ring buffer sizes, perf event array entries, devmap \
         flags) which only the loader tolerates as kernel adjustments; linking them is a \
         conflict (tests/load.rs)",
    ),
    (
        "loader_badname",
        "names the loader must refuse (tests/load.rs)",
    ),
    (
        "loader_byname",
        "one object, nothing shared between files (tests/load.rs checks where its pin goes)",
    ),
    (
        "loader_mismatch",
        "conflicts with seed's `counters` on purpose (tests/load.rs)",
    ),
    (
        "loader_reject",
        "rejected by the verifier on purpose (tests/load.rs)",
    ),
    (
        "map_rules",
        "link-only cases of the map definition rules, no programs (tests/link_semantics.rs)",
    ),
    (
        "migrate_percpu",
        "versions of one per-CPU map carried over by `load --migrate` (tests/migrate.rs)",
    ),
    (
        "migrate_stats",
        "versions of one map carried over by `load --migrate` (tests/migrate.rs)",
    ),
    (
        "migrate_trace",
        "versions of one traced counter migrated by `load --attach --migrate` (tests/migrate.rs)",
    ),
    (
        "migrate_types",
        "versions of one value struct refused as incompatible (tests/migrate.rs)",
    ),
    (
        "struct_ops",
        "struct_ops callbacks cannot be run with BPF_PROG_TEST_RUN and bpftool 7.1's libbpf \
         predates `.struct_ops.link`: linked and loaded with libbpf-rs in \
         tests/link_struct_ops.rs",
    ),
];

const CONFLICT: &str =
    "conflicting definitions on purpose: linking must fail (tests/link_errors.rs)";

/// The scenarios whose linked object must load and behave.
pub const ALL: &[&Scenario] = &[
    &SEED,
    &STATICS,
    &GLOBALS,
    &GLOBALS_LIB_FIRST,
    &MANY,
    &INIT,
    &CORE,
    &LOADER_SHARE,
    &FIREWALL,
    &TC_PAIR,
    &TRACE,
    &TYPEDEF_KEYS,
    &CC19_STRINGS,
    &VALUES_PLAIN,
    &STATIC_MAPS,
    &EMPTY_SECTION,
    &FOLD,
    &FOLD_SAMPLE,
    &EXTERNS,
    &FOLD_STATIC_MAPS,
    &HIDDEN_VIS,
    &EXTERN_TYPES,
    &TYPED_SURVIVOR,
    &TYPED_SURVIVOR_TYPED_FIRST,
    &WEAK_PROMOTE,
    &LICENSE_ONCE,
    &EXTERN_CALL,
    &PROTO_COPY,
];
