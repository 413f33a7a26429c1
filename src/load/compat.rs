//! Map compatibility: takes a map definition (from an object) and a live map's kernel info,
//! gives the first field that differs, after allowing for what libbpf and the kernel change.

/// The map parameters compared before a pinned (or earlier-created) map is reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapParams {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub map_extra: u64,
}

/// What the running system does to a map definition at creation time.
#[derive(Clone, Copy, Debug)]
pub struct Host {
    /// Number of possible CPUs (libbpf's `libbpf_num_possible_cpus`).
    pub possible_cpus: u32,
    /// The kernel's page size.
    pub page_size: u32,
}

/// One differing field, values already formatted for the error message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub field: &'static str,
    /// The value the definition asks for (as declared, before adjustment).
    pub wanted: String,
    /// The value the live map has.
    pub found: String,
}

const PERF_EVENT_ARRAY: u32 = 4;
const DEVMAP: u32 = 14;
const DEVMAP_HASH: u32 = 25;
const RINGBUF: u32 = 27;
const USER_RINGBUF: u32 = 31;
/// `BPF_F_RDONLY_PROG`: the kernel reports it for every devmap.
const F_RDONLY_PROG: u32 = 1 << 7;

/// The parameters a map created from `def` has in the kernel:
/// - perf-event arrays without max_entries get one entry per possible CPU (libbpf);
/// - (user) ring buffer sizes are rounded up to a page-size power of two (libbpf, because the
///   kernel accepts nothing else).
pub fn as_created(def: &MapParams, host: &Host) -> MapParams {
    let mut out = *def;
    match def.map_type {
        PERF_EVENT_ARRAY if def.max_entries == 0 => out.max_entries = host.possible_cpus,
        RINGBUF | USER_RINGBUF => out.max_entries = ringbuf_size(def.max_entries, host.page_size),
        _ => {}
    }
    out
}

/// libbpf's `adjust_ringbuf_sz`: `sz` unchanged when it is a power-of-two multiple of the page
/// size, else the smallest such multiple strictly greater than `sz`; 0 stays 0 (an error later).
pub fn ringbuf_size(sz: u32, page_size: u32) -> u32 {
    if sz == 0 || page_size == 0 {
        return sz;
    }
    if sz % page_size == 0 && (sz / page_size).is_power_of_two() {
        return sz;
    }
    let mut mul: u32 = 1;
    while let Some(size) = mul.checked_mul(page_size) {
        if size > sz {
            return size;
        }
        mul = match mul.checked_mul(2) {
            Some(m) => m,
            None => break,
        };
    }
    sz
}

/// Flags as compared: devmaps ignore `BPF_F_RDONLY_PROG` on both sides, since the kernel adds it
/// (libbpf does the same; cilium/ebpf issue 925).
fn comparable_flags(map_type: u32, flags: u32) -> u32 {
    match map_type {
        DEVMAP | DEVMAP_HASH => flags & !F_RDONLY_PROG,
        _ => flags,
    }
}

/// Human name of a map type, e.g. `array (2)`.
pub fn type_name(map_type: u32) -> String {
    let name = match map_type {
        1 => "hash",
        2 => "array",
        3 => "prog_array",
        4 => "perf_event_array",
        5 => "percpu_hash",
        6 => "percpu_array",
        7 => "stack_trace",
        8 => "cgroup_array",
        9 => "lru_hash",
        10 => "lru_percpu_hash",
        11 => "lpm_trie",
        12 => "array_of_maps",
        13 => "hash_of_maps",
        14 => "devmap",
        15 => "sockmap",
        16 => "cpumap",
        17 => "xskmap",
        18 => "sockhash",
        19 => "cgroup_storage",
        20 => "reuseport_sockarray",
        21 => "percpu_cgroup_storage",
        22 => "queue",
        23 => "stack",
        24 => "sk_storage",
        25 => "devmap_hash",
        26 => "struct_ops",
        27 => "ringbuf",
        28 => "inode_storage",
        29 => "task_storage",
        30 => "bloom_filter",
        31 => "user_ringbuf",
        32 => "cgrp_storage",
        33 => "arena",
        _ => "unknown",
    };
    format!("{name} ({map_type})")
}

/// The first field in which `live` (a pinned or already created map, as the kernel reports it)
/// cannot stand for a map created from `def`; `None` when it can be reused.
pub fn check(def: &MapParams, live: &MapParams, host: &Host) -> Option<Mismatch> {
    let want = as_created(def, host);
    if want.map_type != live.map_type {
        return Some(Mismatch {
            field: "type",
            wanted: type_name(def.map_type),
            found: type_name(live.map_type),
        });
    }
    let sized = |field, wanted: u32, declared: u32, found: u32| {
        (wanted != found).then(|| Mismatch {
            field,
            wanted: if declared == wanted {
                wanted.to_string()
            } else {
                format!("{wanted} (declared {declared})")
            },
            found: found.to_string(),
        })
    };
    if let Some(m) = sized("key_size", want.key_size, def.key_size, live.key_size) {
        return Some(m);
    }
    if let Some(m) = sized(
        "value_size",
        want.value_size,
        def.value_size,
        live.value_size,
    ) {
        return Some(m);
    }
    if let Some(m) = sized(
        "max_entries",
        want.max_entries,
        def.max_entries,
        live.max_entries,
    ) {
        return Some(m);
    }
    if comparable_flags(want.map_type, want.map_flags)
        != comparable_flags(live.map_type, live.map_flags)
    {
        return Some(Mismatch {
            field: "map_flags",
            wanted: format!("{:#x}", def.map_flags),
            found: format!("{:#x}", live.map_flags),
        });
    }
    if want.map_extra != live.map_extra {
        return Some(Mismatch {
            field: "map_extra",
            wanted: format!("{:#x}", def.map_extra),
            found: format!("{:#x}", live.map_extra),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: Host = Host {
        possible_cpus: 2,
        page_size: 4096,
    };

    fn array(max_entries: u32) -> MapParams {
        MapParams {
            map_type: 2,
            key_size: 4,
            value_size: 8,
            max_entries,
            map_flags: 0,
            map_extra: 0,
        }
    }

    #[test]
    fn identical_maps_are_compatible() {
        assert_eq!(check(&array(4), &array(4), &HOST), None);
    }

    #[test]
    fn every_field_is_compared_and_named() {
        let base = array(4);
        let cases: [(&str, MapParams); 6] = [
            (
                "type",
                MapParams {
                    map_type: 1,
                    ..base
                },
            ),
            (
                "key_size",
                MapParams {
                    key_size: 8,
                    ..base
                },
            ),
            (
                "value_size",
                MapParams {
                    value_size: 16,
                    ..base
                },
            ),
            (
                "max_entries",
                MapParams {
                    max_entries: 8,
                    ..base
                },
            ),
            (
                "map_flags",
                MapParams {
                    map_flags: 1,
                    ..base
                },
            ),
            (
                "map_extra",
                MapParams {
                    map_extra: 3,
                    ..base
                },
            ),
        ];
        for (field, live) in cases {
            let m = check(&base, &live, &HOST).expect(field);
            assert_eq!(m.field, field);
        }
        let m = check(&array(8), &array(4), &HOST).unwrap();
        assert_eq!((m.wanted.as_str(), m.found.as_str()), ("8", "4"));
        let m = check(
            &array(4),
            &MapParams {
                map_type: 1,
                ..base
            },
            &HOST,
        )
        .unwrap();
        assert_eq!(
            (m.wanted.as_str(), m.found.as_str()),
            ("array (2)", "hash (1)")
        );
    }

    #[test]
    fn ringbuf_sizes_are_rounded_like_libbpf() {
        assert_eq!(ringbuf_size(4096, 4096), 4096);
        assert_eq!(ringbuf_size(8192, 4096), 8192);
        assert_eq!(ringbuf_size(5000, 4096), 8192);
        assert_eq!(ringbuf_size(12288, 4096), 16384);
        assert_eq!(ringbuf_size(1, 4096), 4096);
        assert_eq!(ringbuf_size(0, 4096), 0);
        assert_eq!(ringbuf_size(u32::MAX, 4096), u32::MAX);
        let rb = |n| MapParams {
            map_type: RINGBUF,
            key_size: 0,
            value_size: 0,
            ..array(n)
        };
        assert_eq!(check(&rb(5000), &rb(8192), &HOST), None);
        let m = check(&rb(5000), &rb(16384), &HOST).unwrap();
        assert_eq!(m.wanted, "8192 (declared 5000)");
    }

    #[test]
    fn perf_event_array_without_size_gets_cpu_count() {
        let pa = |n| MapParams {
            map_type: PERF_EVENT_ARRAY,
            value_size: 4,
            ..array(n)
        };
        assert_eq!(check(&pa(0), &pa(2), &HOST), None);
        assert!(check(&pa(0), &pa(3), &HOST).is_some());
        assert_eq!(check(&pa(3), &pa(3), &HOST), None);
    }

    #[test]
    fn devmap_ignores_rdonly_prog_only() {
        let dm = |t, f| MapParams {
            map_type: t,
            value_size: 4,
            map_flags: f,
            ..array(4)
        };
        assert_eq!(
            check(&dm(DEVMAP, 0), &dm(DEVMAP, F_RDONLY_PROG), &HOST),
            None
        );
        assert_eq!(
            check(&dm(DEVMAP_HASH, 0), &dm(DEVMAP_HASH, F_RDONLY_PROG), &HOST),
            None
        );
        assert!(check(&dm(DEVMAP, 0), &dm(DEVMAP, F_RDONLY_PROG | 1), &HOST).is_some());
        // Not for other types.
        assert!(check(&dm(2, 0), &dm(2, F_RDONLY_PROG), &HOST).is_some());
    }
}
