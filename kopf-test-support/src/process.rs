//! A child process (an operator, `kopf cluster`, Python kopf) whose stdout and stderr lines
//! are collected as they come, so tests can await lines with deadlines; killed if dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long `interrupt` waits for the process to exit after SIGINT.
const EXIT_DEADLINE: Duration = Duration::from_secs(60);

/// How long an exited process's output streams are waited for.
const STREAMS_DEADLINE: Duration = Duration::from_secs(5);

type Lines = Arc<(Mutex<Vec<String>>, Condvar)>;

/// A running process with its output lines (stdout and stderr interleaved as they arrive).
pub struct Process {
    child: Child,
    lines: Lines,
    /// How many of the two output streams have ended.
    ended: Arc<(Mutex<usize>, Condvar)>,
}

impl Process {
    /// Starts `command` with stdin closed and both output streams collected (and echoed to
    /// the test's stderr, prefixed with `| `). Each stream keeps its order; between the two
    /// there is none to rely on (a handler's `println!` may arrive after the log line that
    /// followed it): wait for a line, do not assume it came in with another stream's.
    pub fn spawn(command: &mut Command) -> Process {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
        let lines: Lines = Arc::default();
        let ended = Arc::new((Mutex::new(0usize), Condvar::new()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        for stream in [
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            Box::new(stderr),
        ] {
            let lines = lines.clone();
            let ended = ended.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    eprintln!("| {line}");
                    let (store, signal) = &*lines;
                    store.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                    signal.notify_all();
                }
                let (count, signal) = &*ended;
                *count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                signal.notify_all();
            });
        }
        Process {
            child,
            lines,
            ended,
        }
    }

    /// Waits (at most `deadline`) until both output streams have ended, so that the lines
    /// are all there once the process has exited.
    fn wait_streams_ended(&self, deadline: Duration) {
        let (count, signal) = &*self.ended;
        let guard = count.lock().unwrap_or_else(|p| p.into_inner());
        let _ = signal
            .wait_timeout_while(guard, deadline, |ended| *ended < 2)
            .unwrap_or_else(|p| p.into_inner());
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn guard(&self) -> MutexGuard<'_, Vec<String>> {
        self.lines.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.guard().clone()
    }

    /// The lines so far, as one text.
    pub fn output(&self) -> String {
        self.guard().join("\n")
    }

    /// How many lines so far contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.guard().iter().filter(|l| l.contains(needle)).count()
    }

    /// Waits until `check` finds what it looks for in the lines; panics with the output
    /// (naming `what`) after `deadline`, killing the process, or when it exits first.
    pub fn wait_for_lines<T>(
        &mut self,
        what: &str,
        deadline: Duration,
        mut check: impl FnMut(&[String]) -> Option<T>,
    ) -> T {
        let until = Instant::now() + deadline;
        let (store, signal) = &*self.lines;
        let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(found) = check(&guard) {
                return found;
            }
            let now = Instant::now();
            if now >= until {
                let text = guard.join("\n");
                drop(guard);
                let _ = self.child.kill();
                panic!("timed out waiting for {what}; output:\n{text}");
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader threads catch up with the last lines.
                drop(guard);
                self.wait_streams_ended(STREAMS_DEADLINE);
                guard = store.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(found) = check(&guard) {
                    return found;
                }
                panic!(
                    "the process exited ({status}) before {what}; output:\n{}",
                    guard.join("\n")
                );
            }
            let wait = (until - now).min(Duration::from_millis(200));
            guard = signal
                .wait_timeout(guard, wait)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Waits until `count(needle) >= times`.
    pub fn wait_for_count(&mut self, needle: &str, times: usize, deadline: Duration) {
        self.wait_for_lines(&format!("{times}× {needle:?}"), deadline, |lines| {
            (lines.iter().filter(|l| l.contains(needle)).count() >= times).then_some(())
        });
    }

    /// Waits until a line contains `needle`.
    pub fn wait_for(&mut self, needle: &str, deadline: Duration) {
        self.wait_for_count(needle, 1, deadline);
    }

    /// Waits for a line starting with `prefix` and returns the first such line.
    pub fn wait_for_line_starting(&mut self, prefix: &str, deadline: Duration) -> String {
        self.wait_for_lines(
            &format!("a line starting with {prefix:?}"),
            deadline,
            |lines| lines.iter().find(|l| l.starts_with(prefix)).cloned(),
        )
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does; whether it was delivered.
    pub fn send_sigint(&self) -> bool {
        Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Sends SIGINT and waits for the exit.
    pub fn interrupt(&mut self) -> ExitStatus {
        self.send_sigint();
        self.wait_exit(EXIT_DEADLINE)
    }

    /// Waits for the exit; panics with the output (killing the process) after `deadline`.
    pub fn wait_exit(&mut self, deadline: Duration) -> ExitStatus {
        let until = Instant::now() + deadline;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Its last lines may still be on their way (a child of the process may
                // also hold the streams: not waited for beyond a few seconds).
                self.wait_streams_ended(STREAMS_DEADLINE);
                return status;
            }
            if Instant::now() >= until {
                let _ = self.child.kill();
                panic!(
                    "the process did not exit in {deadline:?}; output:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no shutdown, no flush; waits for the exit.
    pub fn kill(&mut self) -> ExitStatus {
        self.child.kill().expect("SIGKILL is sent");
        self.child.wait().expect("the killed process is reaped")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
