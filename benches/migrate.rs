//! Map migration benchmark: fills a hash map with N entries (default 1,000,000; `--entries N`)
//! of a v1 value struct, then migrates them into a v2 map (a member added, one removed, one
//! widened, one moved) with `bpfmerge::migrate::copy_entries`, batched and one by one, and prints
//! the time, the entries per second and the speedup of batch operations. Needs root.
//!
//! `cargo bench --bench migrate [-- --entries N --runs R --only batched|one-by-one]`
//! (`--only` runs one mode, e.g. under `perf record`).

#[path = "../tests/migrate_shapes/mod.rs"]
mod migrate_shapes;

use std::os::fd::AsFd;
use std::time::Instant;

use bpfmerge::migrate;
use libbpf_rs::{MapHandle, MapType};
use migrate_shapes::{conversion, create, v1, v2, value_spec};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Fill with batch updates (setup only, not timed).
fn fill(map: &MapHandle, n: u32) {
    use libbpf_rs::{MapCore, MapFlags};
    let chunk = 10_000u32;
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        let keys: Vec<u8> = (start..end).flat_map(|i| i.to_ne_bytes()).collect();
        let values: Vec<u8> = (start..end)
            .flat_map(|i| {
                let mut v = i.to_ne_bytes().to_vec();
                v.extend(7u32.to_ne_bytes());
                v.extend(u64::from(i).wrapping_mul(3).to_ne_bytes());
                v
            })
            .collect();
        map.update_batch(&keys, &values, end - start, MapFlags::ANY, MapFlags::ANY)
            .expect("fill");
        start = end;
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = arg("--entries", 1_000_000) as u32;
    let runs = arg("--runs", 3);
    let conv = conversion(&v1(), &v2());
    let old = create(MapType::Hash, "bench_v1", 16, n);
    fill(&old, n);
    println!(
        "migrate {n} entries of a hash map (16-byte value -> 24-byte value), {runs} runs each"
    );
    let only = std::env::args()
        .skip_while(|a| a != "--only")
        .nth(1)
        .map(|m| m == "batched");
    let mut medians = Vec::new();
    for batched in [true, false] {
        if only.is_some_and(|b| b != batched) {
            continue;
        }
        let mut times = Vec::new();
        for _ in 0..runs {
            let new = create(MapType::Hash, "bench_v2", 24, n.saturating_mul(2));
            let spec = value_spec(&conv, 16, 24, None, batched);
            let t = Instant::now();
            let copied = migrate::copy_entries(old.as_fd(), new.as_fd(), &spec).expect("copy");
            times.push(t.elapsed().as_secs_f64());
            assert_eq!(copied.entries, u64::from(n));
            assert_eq!(copied.batched, batched);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        medians.push(median);
        println!(
            "{:<11} median {:.3} s  {:>10.0} entries/s  (runs: {})",
            if batched { "batched" } else { "one by one" },
            median,
            f64::from(n) / median,
            times
                .iter()
                .map(|t| format!("{t:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let [batched, one_by_one] = medians[..] {
        println!("batch speedup: {:.1}x", one_by_one / batched);
    }
}
