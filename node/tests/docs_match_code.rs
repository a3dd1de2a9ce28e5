//! Docs that match the code. What `README.md`, `CONTRIBUTING.md` and `docs/` say about signed
//! byte forms, domain tags, defaults, endpoints, environment variables, files and items is
//! read from the docs themselves and checked against the code, so that changing one without
//! the other fails here, with the file and line of the statement that went stale.
//!
//! The byte layouts are interpreted from the docs' own wording (a small vocabulary of fields:
//! "height u64", "validator address", ...); a reworded layout that the interpreter does not
//! know fails loudly rather than being skipped, and the vocabulary is extended here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pov_consensus::{Proposal, PROPOSAL_DOMAIN, PROPOSAL_SIGN_BYTES_LEN, VOTE_SIGN_BYTES_LEN};
use pov_crypto::{Hash, Keypair};
use pov_node::config::NodeConfig;
use pov_protocol::block::{precommit_sign_bytes, vote_sign_bytes, PRECOMMIT, PREVOTE, VOTE_DOMAIN};
use pov_protocol::genesis::Genesis;
use pov_protocol::{Transaction, TxBody};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("node/ sits in the workspace")
        .to_path_buf()
}

/// Every doc a user or contributor reads: (path from the root, text).
fn docs() -> Vec<(String, String)> {
    let root = root();
    let mut names: Vec<String> = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"]
        .iter()
        .filter(|n| root.join(n).exists())
        .map(|n| n.to_string())
        .collect();
    let mut in_docs: Vec<String> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    in_docs.sort();
    names.extend(in_docs);
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(root.join(&n)).expect("readable doc");
            (n, text)
        })
        .collect()
}

/// The text of one doc.
fn doc(name: &str) -> String {
    std::fs::read_to_string(root().join(name)).expect("readable doc")
}

/// Line number (1-based) of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// Every inline code span (`...`) of a markdown text, with its offset, outside fenced blocks.
/// Spans may wrap across lines; whitespace inside is collapsed to single spaces.
fn code_spans(text: &str) -> Vec<(usize, String)> {
    // Fenced blocks become blanks of the same length, so offsets stay those of `text`.
    let mut prose = String::with_capacity(text.len());
    let mut in_fence = false;
    for line in text.split_inclusive('\n') {
        let fence = line.trim_start().starts_with("```");
        if fence || in_fence {
            let body = line.trim_end_matches('\n');
            prose.push_str(&" ".repeat(body.len()));
            prose.push_str(&line[body.len()..]);
        } else {
            prose.push_str(line);
        }
        if fence {
            in_fence = !in_fence;
        }
    }
    let bytes = prose.as_bytes();
    let run = |at: usize| bytes[at..].iter().take_while(|b| **b == b'`').count();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let ticks = run(i);
        let mut j = i + ticks;
        let mut close = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let n = run(j);
                if n == ticks {
                    close = Some(j);
                    break;
                }
                j += n;
            } else if bytes[j..].starts_with(b"\n\n") {
                break; // a span never crosses a paragraph
            } else {
                j += 1;
            }
        }
        match close {
            Some(c) => {
                let inner = prose[i + ticks..c]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                out.push((i, inner));
                i = c + ticks;
            }
            None => i += ticks,
        }
    }
    out
}

/// Occurrences of domain tags (`pov/<name>/v<n>`) in `text`, with their offsets.
fn domain_tags(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("pov/") {
        let rest = &text[at + 4..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-')
            .collect();
        let after = &rest[name.len()..];
        if name.is_empty() || !after.starts_with("/v") {
            continue;
        }
        let digits: String = after[2..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !digits.is_empty() {
            out.push((at, format!("pov/{name}/v{digits}")));
        }
    }
    out
}

/// The tag at the start of a signed form.
fn leading_tag(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    domain_tags(&text)
        .into_iter()
        .find(|(at, _)| *at == 0)
        .map(|(_, tag)| tag)
        .expect("a signed form starts with its domain tag")
}

fn a_transaction() -> Transaction {
    Transaction::sign(
        &Keypair::dev(0),
        "pov-devnet",
        &Genesis::dev().hash(),
        1,
        TxBody::Contribute {
            kind: "work".into(),
            title: "t".into(),
            uri: "https://example.org".into(),
            content_hash: None,
        },
    )
}

#[test]
fn the_domain_tags_the_docs_name_are_the_ones_the_code_signs_with() {
    let tx_tag = leading_tag(&a_transaction().signing_bytes(&Hash::ZERO));
    let current = [
        tx_tag.clone(),
        leading_tag(VOTE_DOMAIN),
        leading_tag(PROPOSAL_DOMAIN),
        leading_tag(pov_protocol::proof::HASH_DOMAIN.as_bytes()),
        leading_tag(pov_protocol::sealed::COMMITMENT_DOMAIN),
    ];
    // Tags of earlier protocol versions, which the docs may name as history (docs/protocol.md,
    // "Byte forms and protocol versions"). A tag is added here when a form's layout changes.
    let superseded = ["pov/tx/v1", "pov/tx/v2"];
    let mut seen = BTreeSet::new();
    let mut stale = Vec::new();
    for (name, text) in docs() {
        for (at, tag) in domain_tags(&text) {
            if current.contains(&tag) {
                seen.insert(tag);
            } else if !superseded.contains(&tag.as_str()) {
                stale.push(format!("{name}:{}: {tag}", line_of(&text, at)));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the docs name domain tags the code does not use (current: {current:?}): {stale:#?}"
    );
    for tag in &current {
        assert!(
            seen.contains(tag),
            "no doc names the tag {tag} the code signs with"
        );
    }
}

/// A layout as the docs spell it: fields separated by `sep`, outside parentheses.
fn fields(layout: &str, sep: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    let mut rest = layout;
    while let Some(c) = rest.chars().next() {
        if depth == 0 && rest.starts_with(sep) {
            out.push(current.trim().to_string());
            current.clear();
            rest = &rest[sep.len()..];
            continue;
        }
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        current.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.push(current.trim().to_string());
    out
}

/// The values a documented layout is filled with.
struct Sample {
    kind: u8,
    height: u64,
    round: u32,
    value: Option<Hash>,
    pol_round: Option<u32>,
    signer: pov_crypto::Address,
}

/// Builds the bytes a documented layout describes, field by field. Panics on a field it does
/// not know, naming it: the docs changed wording, and this vocabulary must follow.
fn build(doc_name: &str, layout: &[String], s: &Sample) -> Vec<u8> {
    let mut out = Vec::new();
    for field in layout {
        let f = field.trim_matches('`');
        let tag = f.trim_matches('"');
        if tag.starts_with("pov/") {
            out.extend_from_slice(tag.as_bytes());
        } else if let Ok(byte) = f.parse::<u8>() {
            out.push(byte);
        } else if f.starts_with("kind (") {
            let expect_prevote = f.contains(&format!("{PREVOTE} prevote"));
            let expect_precommit = f.contains(&format!("{PRECOMMIT} precommit"));
            assert!(
                expect_prevote && expect_precommit,
                "{doc_name}: the kind bytes in {f:?} are not prevote {PREVOTE}, precommit {PRECOMMIT}"
            );
            out.push(s.kind);
        } else if f == "height u64" || f == "height (u64 big-endian)" {
            out.extend_from_slice(&s.height.to_be_bytes());
        } else if f == "round u32" || f == "round (u32 big-endian)" {
            out.extend_from_slice(&s.round.to_be_bytes());
        } else if f == "0 = nil / 1 = value" {
            out.push(u8::from(s.value.is_some()));
        } else if f == "value (32 zero bytes for nil)" || f == "value" || f == "block hash" {
            out.extend_from_slice(s.value.unwrap_or(Hash::ZERO).as_bytes());
        } else if f == "0/1 POL round present" {
            out.push(u8::from(s.pol_round.is_some()));
        } else if f == "POL round u32 (0 when absent)" {
            out.extend_from_slice(&s.pol_round.unwrap_or(0).to_be_bytes());
        } else if f == "validator address" || f == "proposer address" {
            out.extend_from_slice(s.signer.as_bytes());
        } else {
            panic!("{doc_name}: a layout field this test does not know: {f:?} (teach build())");
        }
    }
    out
}

/// The code span (or list item) in `text` that starts with `start`, up to `end`.
fn span_after(doc_name: &str, text: &str, start: &str, end: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let at = flat
        .find(start)
        .unwrap_or_else(|| panic!("{doc_name} no longer says {start:?}"));
    let rest = &flat[at + start.len()..];
    let stop = rest
        .find(end)
        .unwrap_or_else(|| panic!("{doc_name}: {start:?} is not followed by {end:?}"));
    rest[..stop].to_string()
}

#[test]
fn the_precommit_bytes_of_docs_protocol_md_are_the_ones_certificates_are_signed_over() {
    let text = doc("docs/protocol.md");
    let layout = span_after(
        "docs/protocol.md",
        &text,
        "precommit signatures over the vote bytes `",
        "`",
    );
    let layout = fields(&layout, " ‖ ");
    let signer = Keypair::dev(3).address();
    let hash = pov_crypto::hash(b"a block");
    let sample = Sample {
        kind: PRECOMMIT,
        height: 0x0102_0304_0506_0708,
        round: 0x0a0b_0c0d,
        value: Some(hash),
        pol_round: None,
        signer,
    };
    assert_eq!(
        build("docs/protocol.md", &layout, &sample),
        precommit_sign_bytes(sample.height, sample.round, &hash, &signer),
        "docs/protocol.md describes other precommit bytes than the code's: {layout:?}"
    );
}

#[test]
fn the_vote_and_proposal_layouts_of_docs_consensus_md_are_the_codes() {
    let name = "docs/consensus.md";
    let text = doc(name);
    let vote = fields(&span_after(name, &text, "- vote: ", ". This layout"), ", ");
    let signer = Keypair::dev(5).address();
    let hash = pov_crypto::hash(b"a block");
    for (kind, value) in [(PREVOTE, None), (PRECOMMIT, Some(hash)), (PRECOMMIT, None)] {
        let sample = Sample {
            kind,
            height: 77,
            round: 3,
            value,
            pol_round: None,
            signer,
        };
        let bytes = build(name, &vote, &sample);
        assert_eq!(
            bytes,
            vote_sign_bytes(kind, 77, 3, value.as_ref(), &signer),
            "{name}: the vote layout {vote:?} is not the code's"
        );
        assert_eq!(bytes.len(), VOTE_SIGN_BYTES_LEN);
    }

    let proposal = fields(&span_after(name, &text, "- proposal: ", ". "), ", ");
    for pol_round in [None, Some(1)] {
        let p = Proposal {
            height: 9,
            round: 2,
            value: hash,
            pol_round,
            proposer: signer,
        };
        let sample = Sample {
            kind: 0,
            height: 9,
            round: 2,
            value: Some(hash),
            pol_round,
            signer,
        };
        let bytes = build(name, &proposal, &sample);
        assert_eq!(
            bytes,
            p.sign_bytes(),
            "{name}: the proposal layout {proposal:?} is not the code's"
        );
        assert_eq!(bytes.len(), PROPOSAL_SIGN_BYTES_LEN);
    }

    for (constant, value) in [
        ("VOTE_SIGN_BYTES_LEN", VOTE_SIGN_BYTES_LEN),
        ("PROPOSAL_SIGN_BYTES_LEN", PROPOSAL_SIGN_BYTES_LEN),
    ] {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let key = format!("`{constant}` = ");
        let at = flat
            .find(&key)
            .unwrap_or_else(|| panic!("{name} no longer says {key:?}"));
        let digits: String = flat[at + key.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let said: usize = digits
            .parse()
            .unwrap_or_else(|_| panic!("{name}: {key} is not followed by a number"));
        assert_eq!(
            said, value,
            "{name} says {constant} = {said}, the code {value}"
        );
    }
}

#[test]
fn the_merkle_tags_of_docs_protocol_md_are_the_codes() {
    let name = "docs/protocol.md";
    let text = doc(name);
    let leaf: u8 = span_after(name, &text, "Merkle trees hash leaves with a `", "`")
        .parse()
        .expect("a byte");
    let node: u8 = span_after(name, &text, "and inner nodes with a `", "`")
        .parse()
        .expect("a byte");
    let data = b"leaf data";
    let mut tagged = vec![leaf];
    tagged.extend_from_slice(data);
    let a = pov_protocol::merkle::leaf_hash(data);
    assert_eq!(a, pov_crypto::hash(&tagged), "{name}: the leaf tag");
    let b = pov_protocol::merkle::leaf_hash(b"other");
    let mut pair = vec![node];
    pair.extend_from_slice(a.as_bytes());
    pair.extend_from_slice(b.as_bytes());
    assert_eq!(
        pov_protocol::merkle::root(&[a, b]),
        pov_crypto::hash(&pair),
        "{name}: the inner-node tag"
    );
}

#[test]
fn the_timeouts_of_docs_consensus_md_are_the_defaults() {
    let name = "docs/consensus.md";
    let text = doc(name);
    let t = NodeConfig::default().consensus;
    for (step, base) in [
        ("propose", t.timeout_propose_ms),
        ("prevote", t.timeout_prevote_ms),
        ("precommit", t.timeout_precommit_ms),
    ] {
        let said = format!("{step} {base} + {}·r", t.timeout_delta_ms);
        assert!(
            text.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .contains(&said),
            "{name} should say \"{said}\" (the defaults of node/src/config.rs)"
        );
    }
}

/// The first fenced block of `lang` after the heading `heading`.
fn fenced_after(doc_name: &str, text: &str, heading: &str, lang: &str) -> String {
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("{doc_name} has no heading {heading:?}"));
    let rest = &text[at..];
    let open = format!("```{lang}\n");
    let start = rest
        .find(&open)
        .unwrap_or_else(|| panic!("{doc_name}: no ```{lang} block after {heading:?}"))
        + open.len();
    let len = rest[start..].find("```").expect("a closed block");
    rest[start..start + len].to_string()
}

/// `section.key` for every key of a TOML document.
fn keys(table: &toml::Table, prefix: &str, out: &mut BTreeSet<String>) {
    for (k, v) in table {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => keys(t, &path, out),
            _ => {
                out.insert(path);
            }
        }
    }
}

#[test]
fn the_config_file_of_docs_running_a_node_md_is_every_default() {
    let name = "docs/running-a-node.md";
    let block = fenced_after(name, &doc(name), "## `config.toml`", "toml");
    let documented: NodeConfig = toml::from_str(&block)
        .unwrap_or_else(|e| panic!("{name}: the config.toml block is not a valid config: {e}"));
    assert_eq!(
        documented,
        NodeConfig::default(),
        "{name} says its config.toml shows the defaults; they differ from node/src/config.rs"
    );
    let mut shown = BTreeSet::new();
    keys(&toml::from_str(&block).expect("TOML"), "", &mut shown);
    let mut all = BTreeSet::new();
    keys(
        &toml::from_str(&NodeConfig::default().to_toml()).expect("TOML"),
        "",
        &mut all,
    );
    let missing: Vec<_> = all.difference(&shown).collect();
    assert!(
        missing.is_empty(),
        "{name}: the config.toml block does not show these settings: {missing:?}"
    );
}

#[test]
fn every_route_of_the_api_is_documented_in_docs_api_md_and_nothing_else() {
    let source = std::fs::read_to_string(root().join("node/src/api/mod.rs")).expect("api");
    let mut routes = BTreeSet::new();
    for (at, _) in source.match_indices(".route(") {
        // rustfmt may put the path on the next line.
        let rest = source[at + 7..].trim_start();
        let Some(rest) = rest.strip_prefix('"') else {
            continue;
        };
        let path = &rest[..rest.find('"').expect("closing quote")];
        let handlers = &rest[..rest.find(")\n").unwrap_or(rest.len())];
        for method in ["get", "post", "put", "delete", "patch"] {
            if handlers.contains(&format!("{method}(")) || handlers.contains(&format!(".{method}("))
            {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(!routes.is_empty(), "no routes found in node/src/api/mod.rs");

    let name = "docs/api.md";
    let text = doc(name);
    let mut documented = BTreeSet::new();
    for line in text.lines().filter(|l| l.starts_with("### ")) {
        for (_, span) in code_spans(line) {
            let mut parts = span.splitn(2, ' ');
            let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
                continue;
            };
            if ["GET", "POST", "PUT", "DELETE", "PATCH"].contains(&method) {
                let path = path.split('?').next().unwrap_or(path);
                documented.insert(format!("{method} {path}"));
            }
        }
    }
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    let gone: Vec<_> = documented.difference(&routes).collect();
    assert!(
        undocumented.is_empty() && gone.is_empty(),
        "{name} and node/src/api/mod.rs disagree: routes without a `### \\`METHOD /path\\`` \
         section: {undocumented:?}; sections without a route: {gone:?}"
    );
}

/// The top-level folders of the repository a doc may point into.
const REPO_DIRS: [&str; 10] = [
    "crypto/",
    "protocol/",
    "consensus/",
    "storage/",
    "node/",
    "cli/",
    "tests/",
    "docs/",
    "scripts/",
    ".ci/",
];

#[test]
fn every_file_the_docs_point_to_exists() {
    let root = root();
    let mut missing = Vec::new();
    for (name, text) in docs() {
        for (at, span) in code_spans(&text) {
            let path = span.trim_end_matches([',', '.', ':', ';']);
            let looks_like_a_path = REPO_DIRS.iter().any(|d| path.starts_with(d))
                && path
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
                && !path.contains("...");
            if looks_like_a_path && !root.join(path).exists() {
                missing.push(format!("{name}:{}: {path}", line_of(&text, at)));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the docs point to files that do not exist: {missing:#?}"
    );
}

/// The source folder of a workspace crate, by its Rust name.
fn crate_dir(krate: &str) -> Option<&'static str> {
    Some(match krate {
        "pov_crypto" => "crypto",
        "pov_protocol" => "protocol",
        "pov_consensus" => "consensus",
        "pov_storage" => "storage",
        "pov_node" => "node",
        _ => return None,
    })
}

/// True when `file` defines or re-exports `item`.
fn defines(file: &str, item: &str) -> bool {
    let is_word_end = |rest: &str| !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_');
    for kw in [
        "fn ", "struct ", "enum ", "const ", "static ", "type ", "trait ", "mod ",
    ] {
        let needle = format!("{kw}{item}");
        if file
            .match_indices(&needle)
            .any(|(at, _)| is_word_end(&file[at + needle.len()..]))
        {
            return true;
        }
    }
    file.lines()
        .filter(|l| l.trim_start().starts_with("pub use"))
        .any(|l| {
            l.match_indices(item)
                .any(|(at, _)| is_word_end(&l[at + item.len()..]))
        })
}

#[test]
fn every_rust_item_the_docs_name_exists() {
    let root = root();
    let mut missing = Vec::new();
    for (name, text) in docs() {
        for (at, span) in code_spans(&text) {
            for (start, _) in span.match_indices("pov_") {
                let path: String = span[start..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
                let Some(dir) = parts.first().and_then(|k| crate_dir(k)) else {
                    continue;
                };
                if parts.len() < 2 {
                    continue;
                }
                let (modules, item) = (&parts[1..parts.len() - 1], parts[parts.len() - 1]);
                let base = root.join(dir).join("src");
                let candidates = if modules.is_empty() {
                    vec![base.join("lib.rs")]
                } else {
                    let m = modules.join("/");
                    vec![base.join(format!("{m}.rs")), base.join(&m).join("mod.rs")]
                };
                let found = candidates
                    .iter()
                    .any(|f| std::fs::read_to_string(f).is_ok_and(|source| defines(&source, item)));
                if !found {
                    missing.push(format!("{name}:{}: {path}", line_of(&text, at)));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the docs name Rust items that do not exist: {missing:#?}"
    );
}

/// Every `.rs` file of the workspace's crates.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_environment_variable_the_docs_name_is_read_by_the_code_or_a_script() {
    let root = root();
    let mut files = Vec::new();
    for dir in [
        "crypto",
        "protocol",
        "consensus",
        "storage",
        "node",
        "cli",
        "tests",
    ] {
        sources(&root.join(dir), &mut files);
    }
    let code: String = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    // Scripts read variables too (`${POV_X:-...}`): any mention there counts.
    let scripts: String = ["scripts", ".ci"]
        .iter()
        .filter_map(|d| std::fs::read_dir(root.join(d)).ok())
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    let mut unknown = Vec::new();
    for (name, text) in docs() {
        for (at, _) in text.match_indices("POV_") {
            let var: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let var = var.trim_end_matches('_');
            if var == "POV" {
                continue; // `POV_*`: the family, not a variable
            }
            if !code.contains(&format!("\"{var}\"")) && !scripts.contains(var) {
                unknown.push(format!("{name}:{}: {var}", line_of(&text, at)));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "the docs name environment variables no code reads: {unknown:#?}"
    );
}

#[test]
fn the_span_reader_finds_wrapped_spans_and_skips_fenced_blocks() {
    let text = "a `one` b `two\nlines` c\n```\n`not this`\n```\n`three`";
    let spans: Vec<String> = code_spans(text).into_iter().map(|(_, s)| s).collect();
    assert_eq!(spans, ["one", "two lines", "three"]);
    assert_eq!(fields("a ‖ b (c ‖ d) ‖ e", " ‖ "), ["a", "b (c ‖ d)", "e"]);
    assert_eq!(
        domain_tags("x pov/vote/v1, pov/dev-key/v12 pov/nope pov/a/vx"),
        [
            (2, "pov/vote/v1".to_string()),
            (15, "pov/dev-key/v12".to_string())
        ]
    );
}
