//! The skeleton of the merged object (`app.bpf.o`): `AppSkelBuilder`, with one `packets` map
//! shared by the programs `xdp_count` and `xdp_filter`, which came from two object files.

#[allow(clippy::all, dead_code, non_camel_case_types, unused_imports)]
mod app {
    include!(concat!(env!("OUT_DIR"), "/app.skel.rs"));
}

pub use app::*;
