//! Attack tests: four honest `povd` validators in their own network namespaces, under a
//! steady load, and hostile hosts running `pov-attack` (this crate's own small
//! attacker, not a modified node) against validator 0. The honest nodes must keep
//! finalizing, stay within their limits (file handles, memory), and end agreeing on every
//! block, state root and reported-final transaction.
//!
//! The tests need root (network namespaces); elsewhere each one prints why it is skipped.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use pov_tests::cluster::{Cluster, Options, P2P_PORT};
use pov_tests::load::Load;

const SENDERS: [u32; 4] = [0, 1, 2, 3];
const LIMIT: Duration = Duration::from_secs(90);

/// Starts `pov-attack ARGS` on host `host`; its output is read with [`finish_attack`].
fn attack(cluster: &Cluster, host: usize, args: &[&str]) -> Child {
    cluster
        .lab
        .command(host, &pov_tests::binary("pov-attack"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pov-attack starts")
}

/// Waits for an attacker and returns its report line.
fn finish_attack(child: Child) -> String {
    let out = child.wait_with_output().expect("pov-attack ran");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "pov-attack failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.trim().to_string()
}

/// The number after `label` in an attacker's report line.
fn count(report: &str, label: &str) -> u64 {
    report
        .split(label)
        .nth(1)
        .and_then(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .find(|s| !s.is_empty())
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} in {report:?}"))
}

/// Open file handles of a process.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Peak resident memory of a process, in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map(|kib| kib / 1024)
        .unwrap_or(0)
}

fn genesis_hex(cluster: &Cluster) -> String {
    cluster.node(0).get("/status").expect("status")["genesis_hash"]
        .as_str()
        .expect("genesis_hash")
        .to_string()
}

#[test]
fn a_validator_keeps_finalizing_while_one_peer_holds_5000_connections_and_another_floods_sync() {
    let options = Options {
        extra_hosts: 3,
        ..Options::validators(4)
    };
    let cluster = match Cluster::start(&options) {
        Ok(cluster) => cluster,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let all = [0, 1, 2, 3];
    cluster.wait_height(&all, 2, LIMIT);
    let load = Load::start(&cluster.apis(), &SENDERS);
    load.wait_finals(10, LIMIT);
    let genesis = genesis_hex(&cluster);
    let target_ip = cluster.lab.ip(0);
    let tcp_target = format!("{target_ip}:{P2P_PORT}");
    let p2p_target = format!("/ip4/{target_ip}/tcp/{P2P_PORT}");
    let secs = "20";
    let (holder, peer, flooder) = (4, 5, 6);
    let tcp = attack(&cluster, holder, &["tcp-hold", &tcp_target, "5000", secs]);
    let libp2p = attack(
        &cluster,
        peer,
        &["libp2p-hold", &p2p_target, &genesis, "5000", secs],
    );
    let flood = attack(
        &cluster,
        flooder,
        &["sync-flood", &p2p_target, &genesis, "64", secs],
    );

    // While the attack runs: validator 0 keeps finalizing and its file handles stay bounded.
    let pid = cluster.node(0).child.id();
    let started = Instant::now();
    let from = cluster.height(0);
    let mut most_files = 0;
    let mut heights = Vec::new();
    while started.elapsed() < Duration::from_secs(18) {
        most_files = most_files.max(open_files(pid));
        heights.push(cluster.height(0));
        std::thread::sleep(Duration::from_millis(500));
    }
    let during = cluster.height(0) - from;
    let tcp = finish_attack(tcp);
    let libp2p = finish_attack(libp2p);
    let flood = finish_attack(flood);
    eprintln!("attackers: {tcp} | {libp2p} | {flood}");
    eprintln!(
        "validator 0 finalized {during} blocks in 18 s under attack; at most {most_files} open \
         files; peak RSS {} MiB",
        peak_rss_mib(pid)
    );
    assert!(
        during >= 10,
        "validator 0 finalized only {during} blocks in 18 s under attack: {heights:?}\n{}",
        cluster.logs()
    );
    assert!(
        most_files < 400,
        "validator 0 held {most_files} open files under a connection flood"
    );
    // The limits held: a handful of connections per IP and per peer, not thousands.
    assert!(count(&tcp, "opened") > 0, "{tcp}");
    assert!(count(&tcp, "still open") <= 8, "{tcp}");
    assert!(count(&libp2p, "established") > 0, "{libp2p}");
    assert!(count(&libp2p, "still open") <= 2, "{libp2p}");
    // Sync is answered at most 20 times a second per peer (plus the requests in flight).
    assert!(count(&flood, "answered") <= 20 * 21 + 64, "{flood}");

    cluster.wait_progress(&all, 3, LIMIT);
    let report = load.stop();
    let height = cluster.check_agreement(&report.reported_final, LIMIT);
    eprintln!(
        "RESULT connection and sync floods: agreed on {height} blocks; {} transactions final",
        report.reported_final.len()
    );
}

#[test]
fn the_api_survives_slowloris_and_refuses_an_oversized_body() {
    let options = Options {
        extra_hosts: 1,
        ..Options::validators(4)
    };
    let cluster = match Cluster::start(&options) {
        Ok(cluster) => cluster,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let all = [0, 1, 2, 3];
    cluster.wait_height(&all, 2, LIMIT);
    let load = Load::start(&cluster.apis(), &SENDERS);
    load.wait_finals(10, LIMIT);
    let api = format!("{}:{}", cluster.lab.ip(0), pov_tests::cluster::API_PORT);
    let attacker = 4;
    // 1,000 connections dribbling headers: more than the API's 256 slots.
    let slow = attack(&cluster, attacker, &["slowloris", &api, "1000", "25"]);
    std::thread::sleep(Duration::from_secs(3));
    let pid = cluster.node(0).child.id();
    let started = Instant::now();
    let from = cluster.height(0);
    let (mut ok, mut failed, mut most_files) = (0u32, 0u32, 0usize);
    while started.elapsed() < Duration::from_secs(18) {
        match pov_tests::http::get_with_status(&format!("{}/status", cluster.api(0))) {
            Ok((200, _)) => ok += 1,
            _ => failed += 1,
        }
        most_files = most_files.max(open_files(pid));
        std::thread::sleep(Duration::from_millis(300));
    }
    let during = cluster.height(0) - from;
    let slow = finish_attack(slow);
    // A body of 100 MB is refused without being read.
    let big = finish_attack(attack(&cluster, attacker, &["big-body", &api, "100000000"]));
    eprintln!(
        "attackers: {slow} | {big}; honest /status: {ok} answered, {failed} failed; {during} \
         blocks in 18 s; at most {most_files} open files; peak RSS {} MiB",
        peak_rss_mib(pid)
    );
    assert!(
        failed == 0,
        "honest API requests failed under slowloris: {ok} ok, {failed} failed"
    );
    assert!(during >= 10, "validator 0 finalized only {during} blocks");
    assert!(count(&slow, "closed by server") > 0, "{slow}");
    // Held: the server side (the attacker sees sockets it just re-opened as open).
    assert!(
        most_files < 400,
        "validator 0 held {most_files} open files under slowloris"
    );
    assert_eq!(count(&big, "status"), 413, "{big}");
    // A body over the limit but honest in form gets the API's JSON error.
    let padded = format!("{{\"pad\": \"{}\"}}", "x".repeat(300 * 1024));
    let (status, body) =
        pov_tests::http::post_json(&format!("{}/tx", cluster.api(0)), &padded).expect("answer");
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "too_large", "{body}");

    cluster.wait_progress(&all, 3, LIMIT);
    let report = load.stop();
    let height = cluster.check_agreement(&report.reported_final, LIMIT);
    eprintln!(
        "RESULT slowloris and an oversized body: agreed on {height} blocks; {} transactions final",
        report.reported_final.len()
    );
}

/// A counter of node `i`'s `/metrics` (0 when absent).
fn metric(cluster: &Cluster, i: usize, name: &str) -> f64 {
    pov_tests::http::get_text(&format!("{}/metrics", cluster.api(i)))
        .and_then(|text| pov_tests::http::metric(&text, name))
        .unwrap_or(0.0)
}

#[test]
fn re_enveloped_votes_bad_transactions_and_bad_sync_requests_cost_only_the_attacker() {
    let options = Options {
        extra_hosts: 7,
        ..Options::validators(4)
    };
    let cluster = match Cluster::start(&options) {
        Ok(cluster) => cluster,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let all = [0, 1, 2, 3];
    cluster.wait_height(&all, 2, LIMIT);
    let load = Load::start(&cluster.apis(), &SENDERS);
    load.wait_finals(10, LIMIT);
    let genesis = genesis_hex(&cluster);
    let target = format!("/ip4/{}/tcp/{P2P_PORT}", cluster.lab.ip(0));
    let dropped_before = metric(&cluster, 0, "pov_gossip_repeats_dropped_total");
    let bans_before = metric(&cluster, 0, "pov_peer_bans_total");
    let from = cluster.height(0);
    let started = Instant::now();

    // Every real vote and proposal validator 0 sends the attacker comes back 20 times under
    // fresh nonces for 15 s (then bad transactions and garbage, if it is still connected).
    // Three other hosts each send one sync request no honest node sends.
    let gossip = attack(&cluster, 4, &["gossip", &target, &genesis, "20", "15"]);
    let garbage = attack(&cluster, 5, &["sync-bad", &target, &genesis, "garbage"]);
    let oversized = attack(&cluster, 6, &["sync-bad", &target, &genesis, "oversized"]);
    let foreign = attack(&cluster, 7, &["sync-bad", &target, &genesis, "foreign"]);
    // And one that copies nothing, only sends the bad transactions and garbage; and one that
    // answers validator 0's sync requests with a frame over the message limit.
    let junk = attack(&cluster, 8, &["gossip", &target, &genesis, "0", "3"]);
    let answer = attack(
        &cluster,
        9,
        &["sync-answer-oversized", &target, &genesis, "20"],
    );
    // And one that answers them with validator 0's own stored blocks, not the heights asked.
    let stuffed = attack(
        &cluster,
        10,
        &["sync-answer-stuffed", &target, &genesis, "20"],
    );
    let junk = finish_attack(junk);
    let foreign = finish_attack(foreign);
    let garbage = finish_attack(garbage);
    let oversized = finish_attack(oversized);
    let gossip = finish_attack(gossip);
    let answer = finish_attack(answer);
    let stuffed = finish_attack(stuffed);
    let seconds = started.elapsed().as_secs();
    let during = cluster.height(0) - from;
    let dropped = metric(&cluster, 0, "pov_gossip_repeats_dropped_total") - dropped_before;
    let bans = metric(&cluster, 0, "pov_peer_bans_total") - bans_before;
    eprintln!(
        "attackers: {gossip} | {junk} | {garbage} | {oversized} | {foreign} | {answer} | {stuffed}; validator 0: \
         {during} blocks in {seconds} s, {dropped} repeats dropped unread, {bans} peers banned"
    );

    // The copies were dropped unread (not checked, not forwarded), most of them at least:
    // gossipsub may not deliver every copy the attacker queued.
    assert!(count(&gossip, "received") > 0, "{gossip}");
    assert!(
        dropped >= count(&gossip, "re-sent") as f64 / 2.0,
        "{dropped} dropped of {gossip}"
    );
    // The copier was banned for its copies alone (far more than an honest relay passes on),
    // and each attacker was disconnected and its peer id refused afterwards.
    assert_eq!(count(&gossip, "cut off while copying"), 1, "{gossip}");
    assert_eq!(count(&junk, "re-sent"), 0, "{junk}");
    assert!(count(&junk, "bad") >= 3, "{junk}");
    // Validator 0 asked the oversized answerer (sync polls go round the peers), refused its
    // answer at the length prefix, and banned it.
    assert!(count(&answer, "asked") >= 1, "{answer}");
    // Likewise the stuffed answer: refused whole (its sender banned) once it arrived.
    assert!(count(&stuffed, "fetched") > 0, "{stuffed}");
    assert!(count(&stuffed, "answered") >= 1, "{stuffed}");
    for report in [&gossip, &junk, &garbage, &oversized, &answer, &stuffed] {
        assert_eq!(count(report, "closed"), 1, "{report}");
        assert_eq!(count(report, "redial refused"), 1, "{report}");
    }
    // A peer of another genesis gets no answer and is disconnected.
    assert_eq!(count(&foreign, "answered"), 0, "{foreign}");
    assert_eq!(count(&foreign, "closed"), 1, "{foreign}");
    assert_eq!(count(&garbage, "answered"), 0, "{garbage}");
    assert_eq!(count(&oversized, "answered"), 0, "{oversized}");
    assert!(bans >= 6.0, "{bans} bans");
    assert!(
        during >= 5,
        "validator 0 finalized only {during} blocks in {seconds} s"
    );

    cluster.wait_progress(&all, 3, LIMIT);
    let report = load.stop();
    let height = cluster.check_agreement(&report.reported_final, LIMIT);
    eprintln!(
        "RESULT re-enveloped votes, bad transactions, bad sync requests: agreed on {height} \
         blocks; {} transactions final",
        report.reported_final.len()
    );
}
