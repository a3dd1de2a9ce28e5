//! Reading a node's `GET /metrics` (the Prometheus text format) into name/value pairs.

use std::collections::BTreeMap;
use std::time::Duration;

/// The samples of one scrape: a sample's name with its labels, as written, to its value.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    samples: BTreeMap<String, f64>,
}

impl Metrics {
    /// Parses the text exposition (comments and malformed lines are skipped).
    pub fn parse(text: &str) -> Metrics {
        let samples = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (name, value) = l.rsplit_once(' ')?;
                Some((name.to_string(), value.trim().parse().ok()?))
            })
            .collect();
        Metrics { samples }
    }

    /// One sample's value.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.samples.get(name).copied()
    }

    /// One sample's value, 0 when absent.
    pub fn value(&self, name: &str) -> f64 {
        self.get(name).unwrap_or(0.0)
    }
}

/// Scrapes `api/metrics`.
pub fn scrape(api: &str) -> anyhow::Result<Metrics> {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let text = agent
        .get(format!("{api}/metrics"))
        .call()?
        .body_mut()
        .read_to_string()?;
    Ok(Metrics::parse(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_parse_with_their_labels() {
        let m = Metrics::parse(
            "# HELP pov_height x\npov_height 12\npov_api_txs_submitted_total{result=\"accepted\"} 5\nbad\n",
        );
        assert_eq!(m.get("pov_height"), Some(12.0));
        assert_eq!(
            m.get("pov_api_txs_submitted_total{result=\"accepted\"}"),
            Some(5.0)
        );
        assert_eq!(m.get("bad"), None);
    }
}
