//! Loader faults (issue 6): `bpfmerge load` killed with SIGKILL at random points, 50 times in a
//! row, must never leave a pin dir that the next `load` cannot recover from, and pinned maps
//! must keep their contents (same map, same values) throughout.
//!
//! The delays are seeded (`BPFMERGE_KILL_SEED` to change the seed; it is printed) and spread
//! over the duration of one measured load, so kills land in every phase: before the lock,
//! while objects load, between pins, during the atomic program-pin replacement.

mod kill_support;
mod load_support;
mod mutate;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use kill_support::{Killer, Outcome};
use load_support::{
    fixture, map_id, read_u64, run_xdp, set_tail_call, tree, write_u64, PinDir, XDP_PASS,
};

const KILLS: usize = 50;

fn load_args(dir: &Path) -> Vec<std::ffi::OsString> {
    vec![
        "load".into(),
        fixture("seed/entry.o").into(),
        fixture("seed/handler.o").into(),
        "--pin-dir".into(),
        dir.as_os_str().to_owned(),
    ]
}

fn load(dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bpfmerge"))
        .args(load_args(dir))
        .output()
        .expect("run bpfmerge load")
}

#[test]
fn sigkill_during_load_is_recoverable_and_keeps_map_contents() {
    if !load_support::kernel_ready("sigkill_during_load_is_recoverable_and_keeps_map_contents") {
        return;
    }
    let seed = std::env::var("BPFMERGE_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6b69_6c6c_u64);
    eprintln!("kill_during_load: seed {seed} (BPFMERGE_KILL_SEED to reproduce)");
    let mut rng = mutate::Rng::new(seed);
    let dir = PinDir::new("kill");

    // A first, complete load; then data written into the pinned maps.
    let start = Instant::now();
    let out = load(&dir.path);
    let one_load = start.elapsed();
    assert!(
        out.status.success(),
        "first load: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counters = dir.maps("counters");
    let actions = dir.maps("xdp_actions");
    let counters_id = map_id(&counters);
    let actions_id = map_id(&actions);
    write_u64(&counters, 0, 1000);
    write_u64(&counters, 2, 0x00c0_ffee);
    write_u64(&counters, 3, u64::MAX);
    let pins_after_first = tree(&dir.path);

    // The time a (warm) reload takes, the shortest of three: kills are spread over it.
    let one_load = (0..3)
        .map(|_| {
            let t = Instant::now();
            let out = load(&dir.path);
            assert!(
                out.status.success(),
                "reload: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            t.elapsed()
        })
        .min()
        .unwrap_or(one_load);
    // 50 loads killed after a random delay within one load's duration (kill_support).
    let mut killer = Killer::new(one_load);
    let mut finished = 0;
    for k in 0..KILLS {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bpfmerge"));
        cmd.args(load_args(&dir.path));
        if killer.run(&mut rng, &mut cmd, "load", k) == Outcome::Finished {
            finished += 1;
        }
        // The maps are the same maps, with the data written before the loop.
        assert_eq!(
            map_id(&counters),
            counters_id,
            "kill {k}: counters was re-created"
        );
        assert_eq!(
            map_id(&actions),
            actions_id,
            "kill {k}: xdp_actions was re-created"
        );
        assert_eq!(read_u64(&counters, 2), 0x00c0_ffee, "kill {k}: data lost");
        assert_eq!(read_u64(&counters, 3), u64::MAX, "kill {k}: data lost");
    }
    eprintln!(
        "kill_during_load: {KILLS} loads killed after up to {:?} (one load takes \
         {one_load:?}; last span {:?}), {finished} finished before their kill",
        killer.first_span(),
        killer.span()
    );
    assert!(
        finished <= KILLS - 20,
        "only {} of {KILLS} loads were killed before they finished: the test tests little",
        KILLS - finished
    );

    // A clean load recovers: success, the same pins as after the first load (no temporaries),
    // the same maps, and the programs see the data written before the kills.
    let out = load(&dir.path);
    assert!(
        out.status.success(),
        "load after {KILLS} kills: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(tree(&dir.path), pins_after_first, "pins after recovery");
    assert_eq!(map_id(&counters), counters_id);
    assert_eq!(map_id(&actions), actions_id);
    set_tail_call(&actions, 1, &dir.progs("xdp_handler"));
    assert_eq!(run_xdp(&dir.progs("xdp_entry"), 64), XDP_PASS);
    assert_eq!(
        read_u64(&counters, 0),
        1001,
        "xdp_entry counts on top of the value written before the kills"
    );
    assert_eq!(
        read_u64(&counters, 1),
        1,
        "xdp_handler ran via the tail call"
    );
    assert_eq!(read_u64(&counters, 2), 0x00c0_ffee);
    assert_eq!(read_u64(&counters, 3), u64::MAX);

    // And unload cleans everything up.
    let out = Command::new(env!("CARGO_BIN_EXE_bpfmerge"))
        .args(["unload", "--maps", "--pin-dir"])
        .arg(&dir.path)
        .output()
        .expect("unload");
    assert!(
        out.status.success(),
        "unload: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.path.exists(), "pin dir removed by unload --maps");
}
