//! Documentation that runs: a walk-through in `docs/` is executed command by command, with
//! real `pov` and `povd` processes, and every output is compared with the one printed in the
//! doc. The doc is the test's script, so the two cannot drift apart.
//!
//! What a doc marks for the runner:
//! - A fenced block opened with ```` ```console machine=NAME ```` holds commands run on the
//!   machine `NAME`: lines starting with `$ ` are commands (run by `sh`, with the machine's
//!   directory as working directory and `POV_HOME`, `POV_PASSPHRASE` set, and the workspace's
//!   `pov` and `povd` first on `PATH`); the lines after a command are its output (stdout and
//!   stderr as a terminal shows them), and a last line `[exit code N]` its exit code (0
//!   without one). Other blocks are prose and are not run.
//! - `povd` without a subcommand starts a daemon: the runner starts it in the background and
//!   waits until its log shows the lines the doc prints (in order, each may use `...`).
//! - HTML comments `<!-- doc-test: VERB ARGS -->`, invisible once rendered, make the runner
//!   do what the prose around them says a reader does or waits for: `wait-height N URL`,
//!   `wait-stalled URL`, `wait-healthy URL`, `stop NODE_HOME`, `log-contains NODE_HOME TEXT`,
//!   and `wait-phase ID PHASE URL` (until sealed contribution `ID`'s `sealed.phase` in
//!   `GET URL/contributions/ID` is `PHASE`: a sealed contribution's windows start at the
//!   height that included it, which differs from run to run).
//!
//! How outputs are compared, since keys and times differ from run to run:
//! - Paths under `/tmp/povdoc` and the ports the doc uses are mapped to the run's temporary
//!   directory and free ports, both ways.
//! - Hex (64 digits, or 8 and `…`) is matched by position: the first time a doc value meets
//!   the run's, the pair is learned, and the doc's value in a later command is replaced by the
//!   run's (so `pov genesis add-member <address cleo sent>` uses cleo's real address). A doc
//!   value met again with another run value fails the test.
//! - Heights (a number after "block ", "height ", "until " or "settles at "), counts of
//!   blocks left ("N blocks left"), block times (a `time` line too) and sizes, peer counts,
//!   libp2p peer ids and
//!   16-digit hex ids (a sealed commitment's file names) are not compared; `...`
//!   on a line of its own skips any lines, and inside a line any text. Runs of spaces count as
//!   one (table columns widen with their contents).
//!
//! With `POV_DOC_UPDATE=1` the runner rewrites the doc's commands and outputs with what this
//! run printed (and the doc's other hex values with this run's) instead of failing on a
//! difference, so a change of output is one run away from a consistent doc; review the diff.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The directory the docs show as the root of every machine's files.
pub const DOC_ROOT: &str = "/tmp/povdoc";

/// Longest any one command may run.
const COMMAND_LIMIT: Duration = Duration::from_secs(120);
/// Longest a daemon may take to print its expected lines, or a wait directive to hold.
const WAIT_LIMIT: Duration = Duration::from_secs(90);

/// One thing the doc asks for, in doc order.
#[derive(Debug, Clone)]
pub enum Step {
    /// A command and its expected output.
    Command {
        /// The machine (a `machine=` name).
        machine: String,
        /// The command line, without `$ `.
        command: String,
        /// Expected output lines.
        expected: Vec<String>,
        /// Expected exit code.
        exit: i32,
        /// 0-based line of the command in the doc, and one past its last output line.
        lines: (usize, usize),
    },
    /// A `doc-test` directive's words.
    Directive {
        /// The words after `doc-test:`.
        words: Vec<String>,
        /// 1-based line, for messages.
        line: usize,
    },
}

/// Parses a doc's runnable blocks and directives.
pub fn parse(text: &str) -> Vec<Step> {
    let lines: Vec<&str> = text.lines().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        if let Some(rest) = line
            .trim_start()
            .strip_prefix("<!-- doc-test:")
            .and_then(|r| r.strip_suffix("-->"))
        {
            steps.push(Step::Directive {
                words: rest.split_whitespace().map(str::to_string).collect(),
                line: i + 1,
            });
            i += 1;
            continue;
        }
        let machine = line
            .strip_prefix("```console")
            .and_then(|info| {
                info.split_whitespace()
                    .find_map(|w| w.strip_prefix("machine="))
            })
            .map(str::to_string);
        let Some(machine) = machine else {
            i += 1;
            continue;
        };
        i += 1;
        let mut current: Option<(String, usize, Vec<String>)> = None;
        let mut finish = |current: &mut Option<(String, usize, Vec<String>)>, end: usize| {
            if let Some((command, start, mut expected)) = current.take() {
                let mut exit = 0;
                if let Some(code) = expected
                    .last()
                    .and_then(|l| l.strip_prefix("[exit code "))
                    .and_then(|l| l.strip_suffix(']'))
                    .and_then(|n| n.parse().ok())
                {
                    exit = code;
                    expected.pop();
                }
                steps.push(Step::Command {
                    machine: machine.clone(),
                    command,
                    expected,
                    exit,
                    lines: (start, end),
                });
            }
        };
        while i < lines.len() && !lines[i].starts_with("```") {
            if let Some(command) = lines[i].strip_prefix("$ ") {
                finish(&mut current, i);
                current = Some((command.to_string(), i, Vec::new()));
            } else if let Some((_, _, expected)) = current.as_mut() {
                expected.push(lines[i].to_string());
            }
            i += 1;
        }
        finish(&mut current, i);
        i += 1;
    }
    steps
}

/// A hex value as the docs print it: 64 digits, or the first 8 and `…`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HexToken {
    text: String,
}

/// A line made comparable: volatile figures blanked, hex replaced by placeholders (returned
/// apart, in order), whitespace runs collapsed.
fn canon(line: &str, in_height_table: bool) -> (String, Vec<HexToken>) {
    let mut line = line.trim_end().to_string();
    for key in [
        "height",
        "block time",
        "time",
        "last block",
        "peers",
        "mempool",
        "db size",
    ] {
        if line.starts_with(&format!("{key}  ")) {
            line = format!("{key} *");
        }
    }
    if let Some(at) = line.find("final in block ") {
        let start = at + "final in block ".len();
        let end = line[start..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(line.len(), |e| start + e);
        line.replace_range(start..end, "N");
    }
    line = blank_heights(&line);
    if in_height_table {
        let trimmed = line.trim_start();
        let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            line = format!("N{}", &trimmed[digits..]);
        }
    }
    let mut out = String::new();
    let mut tokens = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k];
        if c.is_ascii_hexdigit() && (k == 0 || !chars[k - 1].is_ascii_alphanumeric()) {
            let run = chars[k..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || ('a'..='f').contains(*c))
                .count();
            let after = chars.get(k + run).copied();
            let boundary = after.is_none_or(|a| !a.is_ascii_alphanumeric());
            if run == 64 && boundary {
                tokens.push(HexToken {
                    text: chars[k..k + 64].iter().collect(),
                });
                out.push_str("<hex>");
                k += 64;
                continue;
            }
            if run == 16 && boundary {
                out.push_str("<id>");
                k += 16;
                continue;
            }
            if run == 8 && after == Some('…') {
                tokens.push(HexToken {
                    text: chars[k..k + 9].iter().collect(),
                });
                out.push_str("<hex…>");
                k += 9;
                continue;
            }
        }
        if line[line.char_indices().nth(k).map_or(0, |(i, _)| i)..].starts_with("12D3KooW") {
            let len = chars[k..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            out.push_str("<peer>");
            k += len;
            continue;
        }
        out.push(c);
        k += 1;
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    (collapsed, tokens)
}

/// `line` with the number after every "block ", "height ", "until " and "settles at "
/// replaced by `N` (a height; not a hash that starts with digits), and the count of every
/// "N blocks left" too.
fn blank_heights(line: &str) -> String {
    let line = blank_blocks_left(line);
    let mut out = String::new();
    let mut rest = line.as_str();
    loop {
        let next = ["block ", "height ", "until ", "settles at "]
            .iter()
            .filter_map(|w| rest.find(w).map(|at| at + w.len()))
            .min();
        let Some(start) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let boundary = rest[digits..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        if digits > 0 && boundary {
            out.push('N');
            rest = &rest[digits..];
        }
    }
}

/// `line` with the number before every " blocks left" replaced by `N`.
fn blank_blocks_left(line: &str) -> String {
    const LEFT: &str = " blocks left";
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(LEFT) {
        let head = &rest[..at];
        let digits = head.chars().rev().take_while(char::is_ascii_digit).count();
        out.push_str(&head[..head.len() - digits]);
        if digits > 0 {
            out.push('N');
        }
        out.push_str(LEFT);
        rest = &rest[at + LEFT.len()..];
    }
    out.push_str(rest);
    out
}

/// Canonical forms of an output's lines, knowing which follow a `HEIGHT` table header.
fn canon_lines(lines: &[String]) -> Vec<(String, Vec<HexToken>)> {
    let mut table = false;
    lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                table = false;
            }
            let c = canon(l, table);
            if l.starts_with("HEIGHT ") {
                table = true;
            }
            c
        })
        .collect()
}

/// Whether `actual` matches `expected`, where `...` in `expected` stands for any text.
fn wildcard_match(expected: &str, actual: &str) -> bool {
    let parts: Vec<&str> = expected.split("...").map(str::trim).collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let mut rest = actual;
    for (n, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        match rest.find(part) {
            Some(at) if n > 0 || at == 0 => rest = &rest[at + part.len()..],
            _ => return false,
        }
    }
    parts.last().is_none_or(|p| p.is_empty()) || rest.is_empty()
}

/// A daemon the doc started.
struct Daemon {
    child: Child,
    log: PathBuf,
}

/// One run of one or more docs, sharing machines, nodes and learned values.
pub struct DocRun {
    root: tempfile::TempDir,
    bin_dir: PathBuf,
    /// Doc port -> run port.
    ports: Vec<(u16, u16)>,
    /// Doc hex -> run hex.
    hex: HashMap<String, String>,
    /// Running daemons by their home as the doc writes it.
    daemons: HashMap<String, Daemon>,
    update: bool,
    passphrase: String,
}

impl DocRun {
    /// A run whose machines live in a fresh temporary directory, the doc's `ports` mapped to
    /// free ones, and `passphrase` as every key's passphrase.
    pub fn new(doc_ports: &[u16], passphrase: &str) -> DocRun {
        let base = crate::free_ports(u16::try_from(doc_ports.len()).unwrap_or(u16::MAX));
        let ports = doc_ports
            .iter()
            .enumerate()
            .map(|(i, p)| (*p, base + i as u16))
            .collect();
        let bin_dir = crate::binary("pov")
            .parent()
            .expect("binaries directory")
            .to_path_buf();
        DocRun {
            root: tempfile::Builder::new()
                .prefix("povdoc-")
                .tempdir()
                .expect("tempdir"),
            bin_dir,
            ports,
            hex: HashMap::new(),
            daemons: HashMap::new(),
            update: std::env::var("POV_DOC_UPDATE").is_ok_and(|v| v == "1"),
            passphrase: passphrase.to_string(),
        }
    }

    fn root_text(&self) -> String {
        self.root.path().display().to_string()
    }

    /// Doc text to run text: paths, ports, learned hex.
    fn to_run(&self, text: &str) -> String {
        let mut out = text.replace(DOC_ROOT, &self.root_text());
        for (doc, run) in &self.ports {
            out = replace_number(&out, *doc, *run);
        }
        for (doc, run) in &self.hex {
            out = out.replace(doc.as_str(), run);
        }
        out
    }

    /// Run text to doc text: paths and ports (hex is compared by position instead).
    fn to_doc(&self, text: &str) -> String {
        let mut out = text.replace(&self.root_text(), DOC_ROOT);
        for (doc, run) in &self.ports {
            out = replace_number(&out, *run, *doc);
        }
        out
    }

    fn machine_dir(&self, machine: &str) -> PathBuf {
        let dir = self.root.path().join(machine);
        std::fs::create_dir_all(&dir).expect("machine directory");
        dir
    }

    fn shell(&self, machine: &str, command: &str) -> Command {
        let dir = self.machine_dir(machine);
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(command).current_dir(&dir);
        for (k, _) in std::env::vars() {
            if k.starts_with("POV_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", self.bin_dir.display()))
            .env("POV_HOME", &dir)
            .env("POV_PASSPHRASE", &self.passphrase)
            .stdin(Stdio::null());
        cmd
    }

    /// Learns doc/run hex pairs from two lines of equal shape; an inconsistency is an error.
    fn learn(&mut self, doc: &[HexToken], run: &[HexToken]) -> Result<(), String> {
        for (d, r) in doc.iter().zip(run) {
            match self.hex.get(&d.text) {
                Some(known) if *known != r.text => {
                    return Err(format!(
                        "the doc shows {} where this run printed {}, but earlier the same doc \
                         value stood for {known}",
                        d.text, r.text
                    ))
                }
                Some(_) => {}
                None => {
                    if d.text.ends_with('…') {
                        // A short form only maps if it is the prefix of a known full value.
                        continue;
                    }
                    self.hex.insert(d.text.clone(), r.text.clone());
                    let (ds, rs) = (format!("{}…", &d.text[..8]), format!("{}…", &r.text[..8]));
                    self.hex.insert(ds, rs);
                }
            }
        }
        Ok(())
    }

    /// Compares an output with the doc's, learning hex; the first difference is the error.
    fn compare(&mut self, expected: &[String], actual: &[String]) -> Result<(), String> {
        let e = canon_lines(expected);
        let a = canon_lines(actual);
        let (mut i, mut j) = (0, 0);
        while i < e.len() {
            if e[i].0 == "..." {
                let Some(next) = e.get(i + 1) else {
                    return Ok(());
                };
                while j < a.len() && !wildcard_match(&next.0, &a[j].0) {
                    j += 1;
                }
                i += 1;
                continue;
            }
            let Some(got) = a.get(j) else {
                return Err(format!("missing line {}: {:?}", i + 1, expected[i]));
            };
            if !wildcard_match(&e[i].0, &got.0) {
                return Err(format!(
                    "line {} differs:\n   doc: {}\n   run: {}",
                    i + 1,
                    expected[i],
                    actual[j]
                ));
            }
            if !e[i].0.contains("...") {
                self.learn(&e[i].1, &got.1)?;
            }
            i += 1;
            j += 1;
        }
        if j < a.len() {
            return Err(format!("unexpected line: {:?}", actual[j]));
        }
        Ok(())
    }

    /// Runs every step of `doc` (a path relative to the workspace); on the first difference
    /// the test fails with the command, the doc's output and this run's. In update mode the
    /// doc is rewritten instead.
    pub fn run_doc(&mut self, doc: &Path) {
        let text = std::fs::read_to_string(doc)
            .unwrap_or_else(|e| panic!("reading {}: {e}", doc.display()));
        let steps = parse(&text);
        assert!(
            steps.iter().any(|s| matches!(s, Step::Command { .. })),
            "{} has no runnable block",
            doc.display()
        );
        let mut rewrites: Vec<((usize, usize), Vec<String>)> = Vec::new();
        for step in steps {
            match step {
                Step::Directive { words, line } => self.directive(&words, doc, line),
                Step::Command {
                    machine,
                    command,
                    expected,
                    exit,
                    lines,
                } => {
                    if let Some(new) =
                        self.command(&machine, &command, &expected, exit, doc, lines.0)
                    {
                        rewrites.push((lines, new));
                    }
                }
            }
        }
        if self.update && !rewrites.is_empty() {
            // Everything else (prose, daemon logs) gets this run's values too, so the doc
            // stays consistent with itself.
            let mut out: Vec<String> = text
                .lines()
                .map(|l| {
                    let mut l = l.to_string();
                    for (doc, run) in &self.hex {
                        l = l.replace(doc.as_str(), run);
                    }
                    l
                })
                .collect();
            for ((start, end), new) in rewrites.into_iter().rev() {
                out.splice(start..end, new);
            }
            let mut joined = out.join("\n");
            joined.push('\n');
            std::fs::write(doc, joined).expect("rewrite doc");
        }
    }

    /// Runs one command; returns its new doc lines in update mode.
    fn command(
        &mut self,
        machine: &str,
        command: &str,
        expected: &[String],
        exit: i32,
        doc: &Path,
        line: usize,
    ) -> Option<Vec<String>> {
        if let Some(t) = canon(command, false)
            .1
            .iter()
            .find(|t| !self.hex.contains_key(&t.text))
        {
            panic!(
                "{}:{}: `{command}` uses {}, which no earlier output of the doc printed (so \
                 this run cannot know its value)",
                doc.display(),
                line + 1,
                t.text
            );
        }
        let run_command = self.to_run(command);
        let words: Vec<&str> = command.split_whitespace().collect();
        if words.first() == Some(&"povd") && words.get(1).is_some_and(|w| w.starts_with("--")) {
            self.daemon(machine, command, &run_command, expected, doc, line);
            return None;
        }
        let mut child = self
            .shell(machine, &format!("exec 2>&1; {run_command}"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("sh runs");
        let mut stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
            text
        });
        let start = Instant::now();
        let status = loop {
            if let Ok(Some(status)) = child.try_wait() {
                break status;
            }
            if start.elapsed() > COMMAND_LIMIT {
                let _ = child.kill();
                panic!(
                    "{}:{}: `{command}` still running after {COMMAND_LIMIT:?}",
                    doc.display(),
                    line + 1
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let output = reader.join().unwrap_or_default();
        let actual: Vec<String> = self.to_doc(&output).lines().map(str::to_string).collect();
        let code = status.code().unwrap_or(-1);
        let result = if code != exit {
            Err(format!("exit code {code}, the doc says {exit}"))
        } else {
            self.compare(expected, &actual)
        };
        if self.update {
            if result.is_err() {
                // Learn what can be learned line by line, so later commands still map.
                for (e, a) in canon_lines(expected)
                    .iter()
                    .zip(canon_lines(&actual).iter())
                {
                    if e.1.len() == a.1.len() {
                        let _ = self.learn(&e.1, &a.1);
                    }
                }
            }
            let mut new = vec![format!("$ {}", self.to_doc(&run_command))];
            new.extend(
                self.to_doc(&output)
                    .lines()
                    .map(|l| l.trim_end().to_string()),
            );
            if code != 0 {
                new.push(format!("[exit code {code}]"));
            }
            return Some(new);
        }
        if let Err(why) = result {
            panic!(
                "{}:{}: `{command}` on {machine}: {why}\n--- doc ---\n{}\n--- this run ---\n{}{}",
                doc.display(),
                line + 1,
                expected.join("\n"),
                actual.join("\n"),
                self.logs()
            );
        }
        None
    }

    /// Starts `povd` in the background and waits for the log lines the doc shows.
    fn daemon(
        &mut self,
        machine: &str,
        command: &str,
        run_command: &str,
        expected: &[String],
        doc: &Path,
        line: usize,
    ) {
        let home = home_of(command)
            .unwrap_or_else(|| panic!("{}:{}: povd without --home", doc.display(), line + 1));
        let log = self
            .machine_dir(machine)
            .join(format!("povd-{}.log", self.daemons.len()));
        let file = std::fs::File::create(&log).expect("log file");
        let child = self
            .shell(machine, &format!("exec {run_command}"))
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .expect("povd starts");
        let mut daemon = Daemon { child, log };
        let start = Instant::now();
        loop {
            let text = self.to_doc(&std::fs::read_to_string(&daemon.log).unwrap_or_default());
            let got: Vec<String> = text.lines().map(str::to_string).collect();
            if self.compare_log(expected, &got) {
                break;
            }
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!(
                    "{}:{}: `{command}` exited with {status} before printing what the doc \
                     shows:\n{text}",
                    doc.display(),
                    line + 1
                );
            }
            if start.elapsed() > WAIT_LIMIT {
                let _ = daemon.child.kill();
                panic!(
                    "{}:{}: `{command}` did not print what the doc shows:\n--- doc ---\n{}\n--- log ---\n{text}",
                    doc.display(),
                    line + 1,
                    expected.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.daemons.insert(home, daemon);
    }

    /// Whether a log holds every expected line, in order (each may use `...`).
    fn compare_log(&self, expected: &[String], log: &[String]) -> bool {
        let mut j = 0;
        for e in expected {
            let (e, _) = canon(e, false);
            if e == "..." {
                continue;
            }
            match log[j..]
                .iter()
                .position(|l| wildcard_match(&e, &canon(l, false).0))
            {
                Some(at) => j += at + 1,
                None => return false,
            }
        }
        true
    }

    fn directive(&mut self, words: &[String], doc: &Path, line: usize) {
        let at = format!("{}:{line}", doc.display());
        let arg = |n: usize| -> String {
            self.to_run(
                words
                    .get(n)
                    .unwrap_or_else(|| panic!("{at}: directive needs more words")),
            )
        };
        match words.first().map(String::as_str) {
            Some("wait-height") => {
                let target: u64 = words
                    .get(1)
                    .and_then(|w| w.parse().ok())
                    .unwrap_or_else(|| panic!("{at}: wait-height N URL"));
                let url = arg(2);
                self.wait(&at, &format!("height {target} at {url}"), || {
                    status(&url).and_then(|s| s["height"].as_u64()) >= Some(target)
                });
            }
            Some("wait-stalled") => {
                let url = arg(1);
                self.wait(&at, &format!("a stall at {url}"), || {
                    status(&url).is_some_and(|s| {
                        s["stalled"] == true
                            && s["validators_seen"]["more_than_two_thirds"] == false
                    })
                });
            }
            Some("wait-healthy") => {
                let url = arg(1);
                self.wait(&at, &format!("blocks and 2/3 seen at {url}"), || {
                    status(&url).is_some_and(|s| {
                        s["stalled"] == false
                            && s["validators_seen"]["more_than_two_thirds"] == true
                    })
                });
            }
            Some("wait-phase") => {
                let id: u64 = words
                    .get(1)
                    .and_then(|w| w.parse().ok())
                    .unwrap_or_else(|| panic!("{at}: wait-phase ID PHASE URL"));
                let phase = words.get(2).cloned().unwrap_or_default();
                let url = arg(3);
                self.wait(&at, &format!("contribution {id} in phase {phase}"), || {
                    crate::http::get_json(&format!("{url}/contributions/{id}"))
                        .is_some_and(|c| c["sealed"]["phase"] == phase.as_str())
                });
            }
            Some("stop") => {
                let home = words.get(1).cloned().unwrap_or_default();
                let mut daemon = self
                    .daemons
                    .remove(&home)
                    .unwrap_or_else(|| panic!("{at}: no running povd with --home {home}"));
                let pid = daemon.child.id().to_string();
                let _ = Command::new("kill").args(["-TERM", &pid]).status();
                let start = Instant::now();
                let status = loop {
                    if let Ok(Some(status)) = daemon.child.try_wait() {
                        break status;
                    }
                    assert!(start.elapsed() < WAIT_LIMIT, "{at}: povd did not stop");
                    std::thread::sleep(Duration::from_millis(50));
                };
                assert!(status.success(), "{at}: povd stopped with {status}");
            }
            Some("log-contains") => {
                let home = words.get(1).cloned().unwrap_or_default();
                let needle = words[2..].join(" ");
                let log = self
                    .daemons
                    .get(&home)
                    .map(|d| d.log.clone())
                    .unwrap_or_else(|| panic!("{at}: no running povd with --home {home}"));
                self.wait(&at, &format!("{needle:?} in the log of {home}"), || {
                    std::fs::read_to_string(&log).is_ok_and(|t| t.contains(&needle))
                });
            }
            other => panic!("{at}: unknown doc-test directive {other:?}"),
        }
    }

    fn wait(&self, at: &str, what: &str, mut check: impl FnMut() -> bool) {
        let start = Instant::now();
        while !check() {
            assert!(
                start.elapsed() < WAIT_LIMIT,
                "{at}: waited {WAIT_LIMIT:?} for {what}{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The tail of every daemon's log, for failure messages.
    fn logs(&self) -> String {
        let mut out = String::new();
        for (home, d) in &self.daemons {
            let text = std::fs::read_to_string(&d.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!(
                "\n--- log of povd --home {home} ---\n{}",
                lines[lines.len().saturating_sub(15)..].join("\n")
            ));
        }
        out
    }
}

impl Drop for DocRun {
    fn drop(&mut self) {
        for d in self.daemons.values_mut() {
            let _ = d.child.kill();
            let _ = d.child.wait();
        }
    }
}

/// `/status` of the node at `url`, if it answers.
fn status(url: &str) -> Option<serde_json::Value> {
    crate::http::get_json(&format!("{url}/status"))
}

/// The `--home DIR` of a command line.
fn home_of(command: &str) -> Option<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[0] == "--home")
        .map(|w| w[1].to_string())
}

/// `text` with every whole-number occurrence of `from` replaced by `to`.
fn replace_number(text: &str, from: u16, to: u16) -> String {
    let (from, to) = (from.to_string(), to.to_string());
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(&from) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + from.len()..].chars().next();
        let whole = before.is_none_or(|c| !c.is_ascii_alphanumeric())
            && after.is_none_or(|c| !c.is_ascii_alphanumeric());
        out.push_str(&rest[..at]);
        out.push_str(if whole { &to } else { &from });
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_commands_outputs_exit_codes_and_directives_are_parsed() {
        let doc = "text\n```console machine=office\n$ pov a\nout 1\nout 2\n$ pov b\nerror: x\n[exit code 3]\n```\n<!-- doc-test: wait-height 2 http://127.0.0.1:7171 -->\n```console\n$ not run\n```\n";
        let steps = parse(doc);
        assert_eq!(steps.len(), 3);
        let Step::Command {
            machine,
            command,
            expected,
            exit,
            lines,
        } = &steps[0]
        else {
            panic!("a command first");
        };
        assert_eq!(
            (machine.as_str(), command.as_str(), *exit, *lines),
            ("office", "pov a", 0, (2, 5))
        );
        assert_eq!(expected, &vec!["out 1".to_string(), "out 2".to_string()]);
        let Step::Command { exit, expected, .. } = &steps[1] else {
            panic!("a command second");
        };
        assert_eq!((*exit, expected.len()), (3, 1));
        assert!(matches!(&steps[2], Step::Directive { words, .. } if words[0] == "wait-height"));
    }

    #[test]
    fn volatile_figures_and_hex_are_blanked_and_wildcards_match() {
        let hex = "ab".repeat(32);
        let (c, t) = canon(
            &format!("transaction {hex} final in block 12 (index 0)"),
            false,
        );
        assert_eq!(c, "transaction <hex> final in block N (index 0)");
        assert_eq!(t[0].text, hex);
        let (c, t) = canon("redistribution  +1  419e2c02…  shared", false);
        assert_eq!(
            (c.as_str(), t[0].text.as_str()),
            ("redistribution +1 <hex…> shared", "419e2c02…")
        );
        assert_eq!(canon("peers         3", false).0, "peers *");
        assert_eq!(
            canon("time          2026-11-30T12:28:25.527Z", false).0,
            "time *"
        );
        assert_eq!(
            canon("     15  admission  tokens  +5", true).0,
            "N admission tokens +5"
        );
        assert_eq!(
            canon("peer id 12D3KooWAbc9 (a bootnode", false).0,
            "peer id <peer> (a bootnode"
        );
        assert!(wildcard_match(
            "... povd started chain_id=x ...",
            "2026 INFO povd started chain_id=x api=1"
        ));
        assert!(!wildcard_match(
            "... povd started chain_id=y ...",
            "INFO povd started chain_id=x"
        ));
        assert_eq!(
            canon(
                "passed in block 17, in force from block 18; height 12",
                false
            )
            .0,
            "passed in block N, in force from block N; height N"
        );
        let (c, t) = canon(&format!("height 3, block {hex}"), false);
        assert_eq!(
            (c.as_str(), t.len()),
            ("height N, block <hex>", 1),
            "a hash after block is not a height"
        );
        assert_eq!(
            canon(
                "sealed  commit: 6 blocks left to commit (until height 15), then reveal until 25",
                false
            )
            .0,
            "sealed commit: N blocks left to commit (until height N), then reveal until N"
        );
        assert_eq!(
            canon(
                "reveal: 7 blocks left (until height 25), settles at 26",
                false
            )
            .0,
            "reveal: N blocks left (until height N), settles at N"
        );
        let (c, t) = canon(
            "kept in /tmp/povdoc/k/seals/87fbe6a019b1f0ac/0-7bd87192fde6e24e.json",
            false,
        );
        assert_eq!(
            (c.as_str(), t.len()),
            ("kept in /tmp/povdoc/k/seals/<id>/0-<id>.json", 0),
            "16-digit ids are not compared nor learned"
        );
        assert_eq!(
            replace_number("a:7171 b/7171/c 17171", 7171, 5),
            "a:5 b/5/c 17171"
        );
    }
}
