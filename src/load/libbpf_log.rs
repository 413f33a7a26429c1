//! libbpf's messages: takes over `libbpf_rs::set_print` while a load runs, gives the captured
//! text and, from it, the verifier log of the program that failed to load.

use std::sync::Mutex;

use libbpf_rs::{PrintCallback, PrintLevel};

static CAPTURED: Mutex<String> = Mutex::new(String::new());

fn capture(_level: PrintLevel, msg: String) {
    if let Ok(mut buf) = CAPTURED.lock() {
        buf.push_str(&msg);
    }
}

/// Captures libbpf's warnings and info messages until dropped, then restores the previous
/// printer. libbpf has one global printer: one capture at a time per process.
pub struct Capture {
    previous: Option<(PrintLevel, PrintCallback)>,
}

impl Capture {
    pub fn start() -> Capture {
        if let Ok(mut buf) = CAPTURED.lock() {
            buf.clear();
        }
        let previous = libbpf_rs::set_print(Some((PrintLevel::Info, capture)));
        Capture { previous }
    }

    /// Everything captured so far (the buffer is emptied).
    pub fn take(&self) -> String {
        CAPTURED
            .lock()
            .map(|mut buf| std::mem::take(&mut *buf))
            .unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        libbpf_rs::set_print(self.previous.take());
    }
}

const BEGIN: &str = "': -- BEGIN PROG LOAD LOG --\n";
const END: &str = "-- END PROG LOAD LOG --";

/// The last verifier log in `text`: (program name, log). libbpf prints it as
/// The program the kernel refused without a verifier log, and the reason libbpf gives:
/// `libbpf: prog 'NAME': BPF program load failed: REASON`.
pub fn refused_program(text: &str) -> Option<(String, String)> {
    const MARK: &str = "': BPF program load failed: ";
    let line = text.lines().find(|l| l.contains(MARK))?;
    let (head, reason) = line.split_once(MARK)?;
    let name = head.rsplit_once("prog '")?.1;
    Some((name.to_string(), reason.trim().to_string()))
}

/// `libbpf: prog 'NAME': -- BEGIN PROG LOAD LOG --\n...-- END PROG LOAD LOG --`.
pub fn failed_program(text: &str) -> Option<(String, String)> {
    let begin = text.rfind(BEGIN)?;
    let head = text.get(..begin)?;
    let name_start = head.rfind("prog '")? + "prog '".len();
    let name = head.get(name_start..)?.to_string();
    let body = text.get(begin + BEGIN.len()..)?;
    let log = match body.find(END) {
        Some(end) => body.get(..end)?,
        None => body,
    };
    Some((name, log.trim_end().to_string()))
}

/// The last `n` non-empty lines of `text`, for errors without a verifier log.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_program_refused_without_a_log() {
        let text = "libbpf: prog 'on_sleep': BPF program load failed: Operation not permitted\n\
                    libbpf: prog 'on_sleep': failed to load: -1\n";
        assert_eq!(
            refused_program(text),
            Some((
                "on_sleep".to_string(),
                "Operation not permitted".to_string()
            ))
        );
        assert_eq!(refused_program("libbpf: nothing\n"), None);
    }

    #[test]
    fn finds_the_failing_programs_log() {
        let text = "libbpf: prog 'xdp_reject': BPF program load failed: Permission denied\n\
                    libbpf: prog 'xdp_reject': -- BEGIN PROG LOAD LOG --\n\
                    0: R1=ctx() R10=fp0\n\
                    R0 invalid mem access 'map_value_or_null'\n\
                    -- END PROG LOAD LOG --\n\
                    libbpf: prog 'xdp_reject': failed to load: -13\n";
        let (name, log) = failed_program(text).unwrap();
        assert_eq!(name, "xdp_reject");
        assert_eq!(
            log,
            "0: R1=ctx() R10=fp0\nR0 invalid mem access 'map_value_or_null'"
        );
        assert_eq!(failed_program("libbpf: nothing here\n"), None);
        assert_eq!(tail("a\n\nb\nc\n", 2), "b\nc");
    }
}
