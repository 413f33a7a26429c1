//! `bpfmerge load --migrate` killed with SIGKILL at random points (as tests/kill_during_load.rs
//! does for plain loads): after every kill, `DIR/maps/stats` is either the old v1 map with all
//! 10,000 entries as stored, or the new v2 map with all of them converted — never missing,
//! never half filled — and the next `load --migrate` finishes the job.
//!
//! The delays are seeded (`BPFMERGE_KILL_SEED` to change the seed; it is printed) and spread
//! over the duration of one measured migrating load, so kills land while objects load, while
//! entries are copied, between pins and during the renames.
#![cfg(feature = "load")]

mod kill_support;
mod load_support;
mod migrate_support;
mod mutate;

use std::process::Command;
use std::time::{Duration, Instant};

use kill_support::{Killer, Outcome};
use libbpf_rs::MapCore;
use load_support::{bpfmerge, fixture, kernel_ready, open_map, tree, PinDir};
use migrate_support::{assert_v1_intact, assert_v2_migrated, fill_v1, load, text, ENTRIES};

const KILLS: usize = 30;
const V1: &str = "migrate_stats/stats_v1.o";
const V2: &str = "migrate_stats/stats_v2.o";

/// Back to v1 with the test's entries: remove everything, load v1, fill.
fn reset(dir: &PinDir) {
    if dir.path.exists() {
        let path = dir.path.as_os_str();
        let out = bpfmerge([
            "unload".as_ref(),
            "--maps".as_ref(),
            "--pin-dir".as_ref(),
            path,
        ]);
        assert!(out.status.success(), "unload: {}", text(&out).1);
    }
    let out = load(&dir.path, &[V1], &[]);
    assert!(out.status.success(), "load v1: {}", text(&out).1);
    fill_v1(&dir.maps("stats"), ENTRIES);
}

/// The pinned `stats` is v1 with every entry, or v2 with every entry converted; true for v2.
fn check_state(dir: &PinDir, when: &str) -> bool {
    let pin = dir.maps("stats");
    assert!(pin.exists(), "{when}: DIR/maps/stats is missing");
    assert!(
        dir.progs("stats_update").exists(),
        "{when}: program pin missing"
    );
    let value_size = open_map(&pin).info().expect("map info").info.value_size;
    match value_size {
        24 => {
            assert_v1_intact(&pin, ENTRIES, when);
            false
        }
        32 => {
            assert_v2_migrated(&pin, ENTRIES, when);
            true
        }
        other => panic!("{when}: value size {other}"),
    }
}

fn migrate_cmd(dir: &PinDir) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bpfmerge"));
    c.arg("load")
        .arg(fixture(V2))
        .arg("--pin-dir")
        .arg(&dir.path)
        .arg("--migrate");
    c
}

#[test]
fn sigkill_during_migration_never_loses_an_entry_and_the_next_load_recovers() {
    if !kernel_ready("sigkill_during_migration_never_loses_an_entry") {
        return;
    }
    let seed = std::env::var("BPFMERGE_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6d69_6772_u64);
    eprintln!("migrate_kill: seed {seed} (BPFMERGE_KILL_SEED to reproduce)");
    let mut rng = mutate::Rng::new(seed);
    let dir = PinDir::new("mig-kill");

    // The time one migrating load takes, the shortest of three: kills are spread over it.
    let mut one = Duration::MAX;
    for _ in 0..3 {
        reset(&dir);
        let t = Instant::now();
        let out = migrate_cmd(&dir).output().expect("run load --migrate");
        one = one.min(t.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(check_state(&dir, "a complete migration"));
    }
    reset(&dir);
    let mut killer = Killer::new(one);
    let (mut killed, mut finished, mut killed_after_rename) = (0, 0, 0);
    for k in 0..KILLS {
        let outcome = killer.run(&mut rng, &mut migrate_cmd(&dir), "load --migrate", k);
        match outcome {
            Outcome::Finished => finished += 1,
            Outcome::Killed => killed += 1,
        }
        let when = format!("kill {k}");
        if check_state(&dir, &when) {
            // Killed after the new map's pin replaced the old one (or it finished).
            killed_after_rename += usize::from(outcome == Outcome::Killed);
            reset(&dir);
        }
    }
    eprintln!(
        "migrate_kill: {killed} killed ({killed_after_rename} after the map pin was replaced), \
         {finished} finished first"
    );
    assert!(killed > 0, "no load was killed (span {:?})", killer.span());

    // Recovery: killed or not, the next migrating load finishes, and leaves no temporaries.
    let out = migrate_cmd(&dir).output().expect("run load --migrate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(check_state(&dir, "after the kills"));
    let stale: Vec<_> = tree(&dir.path)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains('~'))
        .collect();
    assert!(stale.is_empty(), "{stale:?}");
}
