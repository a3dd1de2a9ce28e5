//! A genesis whose `genesis_time` is ahead: the node waits for it, counting down in its log,
//! so that block 1 is made at (not before, and not stamped with) the agreed start.
//!
//! The API and the network are up meanwhile: operators check `/status` (`starts_in_ms`),
//! and the nodes of the cooperative connect to each other, ready for the first block.

use std::time::Duration;

use pov_protocol::genesis::time_text;
use tokio::sync::watch;

use crate::shared::now_ms;

/// Waits until `genesis_time_ms`, logging when the chain starts and, as it nears, how long is
/// left. Returns false if `stop` turned true first (the node is shutting down), true at once
/// if the time is past.
pub async fn until(genesis_time_ms: u64, stop: &mut watch::Receiver<bool>) -> bool {
    let mut left = genesis_time_ms.saturating_sub(now_ms());
    if left == 0 {
        return true;
    }
    tracing::info!(
        genesis_time = %time_text(genesis_time_ms),
        "the chain starts at its genesis time, in {}; waiting for it (the API and the \
         network are up)",
        words(left)
    );
    loop {
        let nap = Duration::from_millis(left.min(step(left)));
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return false,
            _ = tokio::time::sleep(nap) => {}
        }
        left = genesis_time_ms.saturating_sub(now_ms());
        if left == 0 {
            tracing::info!(
                genesis_time = %time_text(genesis_time_ms),
                "genesis time reached: starting consensus"
            );
            return true;
        }
        tracing::info!("the chain starts in {}", words(left));
    }
}

/// How long to sleep between countdown lines with `left_ms` to go: each line about a sixth
/// of the way, between one second and ten minutes.
fn step(left_ms: u64) -> u64 {
    (left_ms / 6).clamp(1_000, 600_000)
}

/// `left_ms` in words: "2 h 5 min", "3 min 20 s", "9 s".
pub fn words(left_ms: u64) -> String {
    let s = left_ms.div_ceil(1000);
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdown_steps_and_words() {
        assert_eq!(step(3_000), 1_000);
        assert_eq!(step(60_000), 10_000);
        assert_eq!(step(86_400_000), 600_000);
        assert_eq!(words(900), "1 s");
        assert_eq!(words(200_000), "3 min 20 s");
        assert_eq!(words(7_500_000), "2 h 5 min");
        assert_eq!(words(90_000_000), "1 d 1 h");
    }

    #[tokio::test]
    async fn a_past_time_returns_at_once_and_a_stop_ends_the_wait() {
        let (tx, mut rx) = watch::channel(false);
        assert!(until(0, &mut rx).await);
        let far = now_ms() + 3_600_000;
        let _ = tx.send(true);
        assert!(!until(far, &mut rx).await);
    }
}
