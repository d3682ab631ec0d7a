//! What every benchmark shares: a fresh appliance configuration with one clinic and its owner,
//! and latency percentiles.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use voxanne::cli::{self, NewAccount, NewClinic};
use voxanne::config::Config;
use voxanne::store::staff::Role;

pub const OWNER_EMAIL: &str = "owner@bench.test";
pub const PASSWORD: &str = "bench-password-1";

/// A configuration with its data in `data` (plus `extra` settings), initialised with
/// "Bench Clinic" in `timezone` and its owner.
pub fn init_appliance(data: &Path, timezone: &str, extra: &[(&str, String)]) -> Config {
    let values: BTreeMap<String, String> = [
        ("VOXANNE_DATA_DIR", data.display().to_string()),
        ("VOXANNE_MASTER_KEY", "07".repeat(32)),
        ("VOXANNE_LOG", "error".into()),
    ]
    .into_iter()
    .chain(extra.iter().cloned())
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let config = Config::from_values(&values).unwrap();
    cli::init(
        &config,
        &NewClinic {
            clinic: "Bench Clinic",
            timezone,
            clinic_type: "plastic-surgery",
        },
        &NewAccount {
            email: OWNER_EMAIL,
            name: None,
            role: Role::Owner,
            password: PASSWORD,
        },
    )
    .unwrap();
    config
}

/// The `p` quantile (0..1) of `sorted` latencies, in milliseconds; 0 when there are none.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}
