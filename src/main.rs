//! Command line: parses arguments with clap, calls the library, prints results and the error chain.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "bpfmerge",
    version,
    about = "Link BPF objects so same-named maps become one map, or load objects reusing pinned maps"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Link objects into one (the default when the first argument is a file).
    Link(LinkArgs),
    /// Load objects into the kernel, reusing maps pinned in DIR/maps.
    #[cfg(feature = "load")]
    Load(LoadArgs),
    /// Remove the program pins (and with --maps the map pins) of a pin dir.
    #[cfg(feature = "load")]
    Unload(UnloadArgs),
    /// List programs, maps, globals and a BTF summary of objects.
    Inspect(InspectArgs),
}

#[derive(clap::Args)]
struct LinkArgs {
    /// Input objects (clang -target bpf).
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    /// Output object.
    #[arg(short, long)]
    output: PathBuf,
    /// Say which maps were merged from which files.
    #[arg(short, long)]
    verbose: bool,
    /// Print the link report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[cfg(feature = "load")]
#[derive(clap::Args)]
struct LoadArgs {
    /// Objects to load, one after another, sharing maps by name.
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    /// Pin directory (default /sys/fs/bpf/bpfmerge/<stem of first object>).
    #[arg(long)]
    pin_dir: Option<PathBuf>,
    /// Print what was loaded and pinned as JSON.
    #[arg(long)]
    json: bool,
}

#[cfg(feature = "load")]
#[derive(clap::Args)]
struct UnloadArgs {
    /// Pin directory to clean.
    #[arg(long, required = true)]
    pin_dir: PathBuf,
    /// Remove the map pins too.
    #[arg(long)]
    maps: bool,
}

#[derive(clap::Args)]
struct InspectArgs {
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `link` is the default subcommand when the first argument is not a subcommand name.
    if let Some(first) = args.get(1) {
        let s = first.to_string_lossy();
        let known = [
            "link",
            "load",
            "unload",
            "inspect",
            "help",
            "-h",
            "--help",
            "-V",
            "--version",
        ];
        if !known.contains(&s.as_ref()) {
            args.insert(1, "link".into());
        }
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bpfmerge: error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Link(a) => {
            let report = bpfmerge::link_files(&a.objects, &a.output)
                .with_context(|| format!("linking into {}", a.output.display()))?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else if a.verbose {
                eprint!("{}", report.to_text());
            }
            Ok(())
        }
        #[cfg(feature = "load")]
        Command::Load(a) => {
            let opts = bpfmerge::load::LoadOptions { pin_dir: a.pin_dir };
            let report = bpfmerge::load::load(&a.objects, &opts)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            Ok(())
        }
        #[cfg(feature = "load")]
        Command::Unload(a) => {
            let report = bpfmerge::load::unload(&a.pin_dir, a.maps)?;
            print!("{}", report.to_text());
            Ok(())
        }
        Command::Inspect(a) => {
            let report = bpfmerge::inspect_files(&a.objects)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            Ok(())
        }
    }
}
