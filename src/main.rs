//! Command line: parses arguments with clap, calls the library, prints results and the error chain.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};

const LONG_ABOUT: &str = "\
Link BPF objects so that same-named maps become one map, or load objects reusing pinned maps.

`bpfmerge a.o b.o -o merged.o` links clang's BPF objects into one object in which every `.maps` \
definition of one name is one map; any libbpf-based loader (bpftool, skeletons, libbpf-rs, aya) \
loads it. `bpfmerge load` loads objects one after another, sharing maps by name through pins in \
bpffs. `link` is the default subcommand when the first argument is a file.

Exit status: 0 success; 1 an error in the inputs (bad object, conflicting definitions, verifier \
rejection) or a conflict found by `check`; 2 bad usage.";

#[derive(Parser)]
#[command(
    name = "bpfmerge",
    version,
    about = "Link BPF objects so same-named maps become one map, or load objects reusing pinned maps",
    long_about = LONG_ABOUT
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Link objects into one (the default when the first argument is a file).
    Link(LinkArgs),
    /// Report what a link would merge and every conflict, writing nothing (exit 1 on conflict).
    Check(CheckArgs),
    /// Load objects into the kernel, reusing maps pinned in DIR/maps.
    #[cfg(feature = "load")]
    Load(LoadArgs),
    /// Remove the program pins (and with --maps the map pins) of a pin dir.
    #[cfg(feature = "load")]
    Unload(UnloadArgs),
    /// List the maps and programs pinned in a pin dir with their kernel ids, types and entries.
    #[cfg(feature = "load")]
    Status(StatusArgs),
    /// List programs, maps, globals and a BTF summary of objects.
    Inspect(InspectArgs),
    /// Print a shell completion script (e.g. `bpfmerge completions bash > /etc/bash_completion.d/bpfmerge`).
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per subcommand into a directory.
    Man(ManArgs),
}

#[derive(clap::Args)]
struct LinkArgs {
    /// Input objects (clang -target bpf).
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    /// Output object (written atomically; nothing is written on error).
    #[arg(short, long, required_unless_present = "dry_run")]
    output: Option<PathBuf>,
    /// Say which maps were merged from which files and which programs each input contributed.
    #[arg(short, long)]
    verbose: bool,
    /// Print the link report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Write nothing: report what would merge and every conflict, like `bpfmerge check`.
    #[arg(long, short = 'n')]
    dry_run: bool,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Input objects.
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    /// Print the check report as JSON on stdout.
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
    /// Attach every program after all of them loaded, pinning each link at DIR/links/<program>;
    /// a link pinned by an earlier load is updated in place (no gap). Targets come from the
    /// section name (tracepoint/, kprobe/, fentry/, ...) or from --xdp/--tc/--cgroup; a program
    /// without a target is an error, or with `--attach=available` is left unattached.
    #[arg(long, num_args = 0..=1, require_equals = true, value_name = "available",
          default_missing_value = "all")]
    attach: Option<AttachWhat>,
    /// Attach XDP programs to IFACE (through an XDP link), in the kernel's mode or the one
    /// given. Repeatable.
    #[arg(long, value_name = "IFACE[:native|generic]", requires = "attach")]
    xdp: Vec<bpfmerge::load::attach::XdpTarget>,
    /// Attach tc programs (tc, classifier, tcx/ingress, tcx/egress) to IFACE through tcx links.
    /// Repeatable.
    #[arg(long, value_name = "IFACE:ingress|egress", requires = "attach")]
    tc: Vec<bpfmerge::load::attach::TcTarget>,
    /// Attach cgroup programs (cgroup_skb/, cgroup/, sockops) to this cgroup v2 directory.
    #[arg(long, value_name = "PATH", requires = "attach")]
    cgroup: Option<PathBuf>,
    /// Load and pin PROG but attach it nowhere (e.g. a tail-call target). Repeatable.
    #[arg(long, value_name = "PROG", requires = "attach")]
    no_attach: Vec<String>,
    /// Carry the entries of a pinned map whose definition changed (max_entries, layout-neutral
    /// flags, struct members matched by name, integers resized where no value is lost) into a
    /// new map, which replaces the old pin once everything loaded. Refused when a program
    /// pinned in DIR/progs that uses the old map is not replaced by this load.
    #[arg(long)]
    migrate: bool,
    /// Say what would be created, reused, migrated (entry counts, member mapping) or refused,
    /// and change nothing (no program is loaded; exit status 1 when a map would be refused).
    #[arg(long, conflicts_with = "attach")]
    dry_run: bool,
}

/// `--attach` or `--attach=available`.
#[cfg(feature = "load")]
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum AttachWhat {
    /// Every program; one without a target is an error.
    All,
    /// Programs with a target; the others are loaded and left unattached.
    Available,
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

#[cfg(feature = "load")]
#[derive(clap::Args)]
struct StatusArgs {
    /// Pin directory to list.
    #[arg(long, required = true)]
    pin_dir: PathBuf,
    /// Print the status as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct InspectArgs {
    /// Objects to describe.
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct CompletionsArgs {
    /// Shell to generate the script for.
    shell: clap_complete::Shell,
}

#[derive(clap::Args)]
struct ManArgs {
    /// Write bpfmerge.1 and bpfmerge-<subcommand>.1 into this directory instead of printing
    /// bpfmerge.1.
    #[arg(long)]
    out_dir: Option<PathBuf>,
}

/// What `run` asks `main` to exit with besides success.
enum Outcome {
    Ok,
    /// A check found conflicts (already printed).
    Conflicts,
}

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `link` is the default subcommand when the first argument is not a subcommand name or a
    // top-level flag.
    if let Some(first) = args.get(1) {
        let s = first.to_string_lossy();
        let cmd = Cli::command();
        let known = cmd.get_subcommands().any(|c| c.get_name() == s)
            || ["help", "-h", "--help", "-V", "--version"].contains(&s.as_ref());
        if !known {
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
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Conflicts) => ExitCode::from(1),
        Err(e) => {
            eprintln!("bpfmerge: error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            // Bad usage (e.g. `-o` naming an input) is 2, as for clap's own errors.
            let usage = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<bpfmerge::Error>(),
                    Some(bpfmerge::Error::Usage(_))
                )
            });
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

/// `load --dry-run`: the report, then an error when a map would be refused.
#[cfg(feature = "load")]
fn dry_run(
    objects: &[PathBuf],
    opts: &bpfmerge::load::LoadOptions,
    json: bool,
) -> anyhow::Result<Outcome> {
    let report = bpfmerge::load::dry_run(objects, opts)?;
    if json {
        print_json(&report)?;
    } else {
        print!("{}", report.to_text());
    }
    match report.refused() {
        0 => Ok(Outcome::Ok),
        n => anyhow::bail!(
            "dry run: {n} map{} would be refused (see above); nothing was changed",
            if n == 1 { "" } else { "s" }
        ),
    }
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `check` and `link --dry-run`: the report on stdout, each conflict on stderr too.
fn check(objects: &[PathBuf], json: bool) -> anyhow::Result<Outcome> {
    let report = bpfmerge::check_files(objects)?;
    if json {
        print_json(&report)?;
    } else {
        print!("{}", report.to_text());
        for c in &report.conflicts {
            eprintln!("bpfmerge: error: {}", c.message);
        }
    }
    Ok(if report.ok {
        Outcome::Ok
    } else {
        Outcome::Conflicts
    })
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Link(a) => return link(a),
        Command::Check(a) => return check(&a.objects, a.json),
        #[cfg(feature = "load")]
        Command::Load(a) => return load(a),
        #[cfg(feature = "load")]
        Command::Unload(a) => {
            print!("{}", bpfmerge::load::unload(&a.pin_dir, a.maps)?.to_text());
        }
        #[cfg(feature = "load")]
        Command::Status(a) => {
            let report = bpfmerge::load::status::status(&a.pin_dir)?;
            show(a.json, &report, || report.to_text())?;
        }
        Command::Inspect(a) => {
            let report = bpfmerge::inspect_files(&a.objects)?;
            show(a.json, &report, || report.to_text())?;
        }
        Command::Completions(a) => {
            let mut cmd = Cli::command();
            let mut out = std::io::stdout().lock();
            clap_complete::generate(a.shell, &mut cmd, "bpfmerge", &mut out);
            out.flush()?;
        }
        Command::Man(a) => man(a.out_dir)?,
    }
    Ok(Outcome::Ok)
}

/// `link` (or `link --dry-run`, which is `check`).
fn link(a: LinkArgs) -> anyhow::Result<Outcome> {
    let output = match (a.dry_run, a.output) {
        (true, _) => return check(&a.objects, a.json),
        (false, Some(o)) => o,
        (false, None) => unreachable!("clap requires -o without --dry-run"),
    };
    let report = bpfmerge::link_files(&a.objects, &output)
        .with_context(|| format!("linking into {}", output.display()))?;
    if a.json {
        print_json(&report)?;
    } else if a.verbose {
        eprint!("{}", report.to_text());
    }
    Ok(Outcome::Ok)
}

/// `load` (or `load --dry-run`).
#[cfg(feature = "load")]
fn load(a: LoadArgs) -> anyhow::Result<Outcome> {
    let attach = a.attach.map(|what| bpfmerge::load::attach::AttachOptions {
        available_only: what == AttachWhat::Available,
        xdp: a.xdp,
        tc: a.tc,
        cgroup: a.cgroup,
        skip: a.no_attach,
    });
    let opts = bpfmerge::load::LoadOptions {
        pin_dir: a.pin_dir,
        attach,
        migrate: a.migrate,
    };
    if a.dry_run {
        return dry_run(&a.objects, &opts, a.json);
    }
    let report = bpfmerge::load::load(&a.objects, &opts)?;
    show(a.json, &report, || report.to_text())?;
    Ok(Outcome::Ok)
}

/// `man`: the pages into a directory, or the main page on stdout.
fn man(out_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let cmd = Cli::command();
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("writing man pages into {}", dir.display()))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// A report on stdout: JSON with `--json`, else its text.
fn show(
    json: bool,
    value: &impl serde::Serialize,
    text: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    if json {
        print_json(value)
    } else {
        print!("{}", text());
        Ok(())
    }
}
