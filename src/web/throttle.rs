//! Sign-in throttling, after OWASP's authentication guidance. Failures are counted per account
//! and address together, per account across all addresses, per address across accounts, and
//! per remembered browser. Each count locks only what it measures, for a period that doubles
//! with every further failure (1 minute up to an hour):
//!
//! - 5 failures for one account from one address lock that account from that address: one
//!   person's typos never lock anybody else out, even behind the same front-desk NAT;
//! - 10 failures for one account from anywhere lock it for browsers it was never signed in on
//!   (guessing spread over many addresses slows down), while a remembered browser
//!   ([`super::device_cookie`]) still signs in with the right password;
//! - 20 failures from one address, for at least 3 different accounts, lock that address for
//!   browsers not remembered for the account (password spraying);
//! - 5 failures from one remembered browser make it an ordinary browser again until they pass.
//!
//! Owners see and clear their staff's locks in Settings → Staff, and the address locks whose
//! failures include one of their staff's accounts.

use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

const FORGET_AFTER_MINUTES: i64 = 15;
const MAX_LOCK_MINUTES: i64 = 60;
/// Different accounts one address must have failed for before the address itself is locked.
const SPRAY_ACCOUNTS: usize = 3;
/// Accounts remembered per address: enough to show each clinic's owner the address locks
/// that touch their staff, bounded so a spraying address cannot grow its entry without end.
const ACCOUNTS_KEPT: usize = 64;

/// What a count is kept for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    AccountFromAddress { account: String, ip: String },
    Account(String),
    Address(String),
    Browser(String),
}

impl Key {
    fn free_failures(&self) -> u32 {
        match self {
            Key::AccountFromAddress { .. } | Key::Browser(_) => 5,
            Key::Account(_) => 10,
            Key::Address(_) => 20,
        }
    }

    /// How the lock reads in the audit log and in Settings → Staff.
    pub fn describe(&self) -> String {
        match self {
            Key::AccountFromAddress { ip, .. } => format!("from {ip}"),
            Key::Account(_) => "for browsers it has not signed in on".into(),
            Key::Address(ip) => format!("every account from {ip}"),
            Key::Browser(_) => "on one remembered browser".into(),
        }
    }

    fn account(&self) -> Option<&str> {
        match self {
            Key::AccountFromAddress { account, .. } | Key::Account(account) => Some(account),
            Key::Address(_) | Key::Browser(_) => None,
        }
    }
}

/// One sign-in attempt: the account asked for, the address it came from, and the remembered
/// browser it came from, if the request carries a valid cookie for that account.
pub struct Attempt<'a> {
    pub account: &'a str,
    pub ip: &'a str,
    pub browser: Option<&'a str>,
}

impl Attempt<'_> {
    /// The counts a failure adds to.
    fn counted(&self) -> Vec<Key> {
        let mut keys = vec![
            Key::AccountFromAddress {
                account: self.account.to_string(),
                ip: self.ip.to_string(),
            },
            Key::Account(self.account.to_string()),
            Key::Address(self.ip.to_string()),
        ];
        if let Some(b) = self.browser {
            keys.push(Key::Browser(b.to_string()));
        }
        keys
    }

    /// The locks that apply: a remembered browser answers only for its own failures.
    fn checked(&self) -> Vec<Key> {
        match self.browser {
            Some(b) => vec![Key::Browser(b.to_string())],
            None => self.counted(),
        }
    }
}

/// A lock in force: what it covers and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub key: Key,
    pub until: DateTime<Utc>,
}

impl Lock {
    pub fn seconds_left(&self, now: DateTime<Utc>) -> u64 {
        (self.until - now).num_seconds().max(1) as u64
    }
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<Key, Entry>>,
}

#[derive(Debug, Clone, Default)]
struct Entry {
    failures: u32,
    last: Option<DateTime<Utc>>,
    /// For an address: the accounts it failed for (up to [`ACCOUNTS_KEPT`]).
    accounts: BTreeSet<String>,
}

impl LoginThrottle {
    /// The longest lock that refuses `attempt` now, if any.
    pub fn refusal(&self, attempt: &Attempt<'_>, now: DateTime<Utc>) -> Option<Lock> {
        let entries = self.lock();
        attempt
            .checked()
            .into_iter()
            .filter_map(|key| {
                let until = entries.get(&key).and_then(|e| locked_until(&key, e))?;
                (until > now).then_some(Lock { key, until })
            })
            .max_by_key(|l| l.until)
    }

    /// Counts a failed attempt; returns the locks it started.
    pub fn record_failure(&self, attempt: &Attempt<'_>, now: DateTime<Utc>) -> Vec<Lock> {
        let mut entries = self.lock();
        entries.retain(|key, e| {
            e.last
                .is_some_and(|last| now - last < Duration::minutes(FORGET_AFTER_MINUTES))
                || locked_until(key, e).is_some_and(|u| u > now)
        });
        let mut started = Vec::new();
        for key in attempt.counted() {
            let entry = entries.entry(key.clone()).or_default();
            let was_locked = locked_until(&key, entry).is_some_and(|u| u > now);
            entry.failures += 1;
            entry.last = Some(now);
            if matches!(key, Key::Address(_)) && entry.accounts.len() < ACCOUNTS_KEPT {
                entry.accounts.insert(attempt.account.to_string());
            }
            if let Some(until) = locked_until(&key, entry).filter(|u| *u > now && !was_locked) {
                started.push(Lock { key, until });
            }
        }
        started
    }

    /// A correct password: the counts of that account from that address and browser start over.
    /// The account-wide count does not, so guessing from elsewhere stays slowed down.
    pub fn record_success(&self, attempt: &Attempt<'_>) {
        let mut entries = self.lock();
        entries.remove(&Key::AccountFromAddress {
            account: attempt.account.to_string(),
            ip: attempt.ip.to_string(),
        });
        if let Some(b) = attempt.browser {
            entries.remove(&Key::Browser(b.to_string()));
        }
    }

    /// Locks in force on `account` itself (account-wide and per address), soonest-ending last.
    pub fn locks_on(&self, account: &str, now: DateTime<Utc>) -> Vec<Lock> {
        self.locks_where(now, |key, _| key.account() == Some(account))
    }

    /// Locks in force whose key and entry pass `keep`, soonest-ending last.
    fn locks_where(&self, now: DateTime<Utc>, keep: impl Fn(&Key, &Entry) -> bool) -> Vec<Lock> {
        let entries = self.lock();
        let mut locks: Vec<Lock> = entries
            .iter()
            .filter(|(key, e)| keep(key, e))
            .filter_map(|(key, e)| {
                let until = locked_until(key, e).filter(|u| *u > now)?;
                Some(Lock {
                    key: key.clone(),
                    until,
                })
            })
            .collect();
        locks.sort_by(|a, b| b.until.cmp(&a.until).then(a.key.cmp(&b.key)));
        locks
    }

    /// Forgets every count on `account` (account-wide and per address); returns the locks that
    /// were in force.
    pub fn clear(&self, account: &str, now: DateTime<Utc>) -> Vec<Lock> {
        let cleared = self.locks_on(account, now);
        self.lock().retain(|key, _| key.account() != Some(account));
        cleared
    }

    /// Address locks in force whose failures include one of `accounts` (a clinic's staff).
    pub fn address_locks_touching(&self, accounts: &[String], now: DateTime<Utc>) -> Vec<Lock> {
        self.locks_where(now, |key, e| {
            matches!(key, Key::Address(_)) && touches(e, accounts)
        })
    }

    /// Forgets the count on address `ip` if its failures include one of `accounts`; returns
    /// the lock that was in force, if any.
    pub fn clear_address(&self, ip: &str, accounts: &[String], now: DateTime<Utc>) -> Option<Lock> {
        let key = Key::Address(ip.to_string());
        let mut entries = self.lock();
        let entry = entries.get(&key).filter(|e| touches(e, accounts))?;
        let lock = locked_until(&key, entry)
            .filter(|u| *u > now)
            .map(|until| Lock {
                key: key.clone(),
                until,
            });
        entries.remove(&key);
        lock
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn touches(e: &Entry, accounts: &[String]) -> bool {
    accounts.iter().any(|a| e.accounts.contains(a))
}

fn locked_until(key: &Key, e: &Entry) -> Option<DateTime<Utc>> {
    let free = key.free_failures();
    if e.failures < free {
        return None;
    }
    if matches!(key, Key::Address(_)) && e.accounts.len() < SPRAY_ACCOUNTS {
        return None;
    }
    let doublings = (e.failures - free).min(6);
    let minutes = (1i64 << doublings).min(MAX_LOCK_MINUTES);
    Some(e.last? + Duration::minutes(minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from<'a>(account: &'a str, ip: &'a str) -> Attempt<'a> {
        Attempt {
            account,
            ip,
            browser: None,
        }
    }

    #[test]
    fn five_typos_lock_that_account_from_that_address_only() {
        let t = LoginThrottle::default();
        let now = crate::clock::system_now();
        for _ in 0..4 {
            assert!(t.record_failure(&from("a", "10.0.0.1"), now).is_empty());
        }
        let started = t.record_failure(&from("a", "10.0.0.1"), now);
        assert_eq!(started.len(), 1, "{started:?}");
        assert!(t.refusal(&from("a", "10.0.0.1"), now).is_some());
        assert!(t.refusal(&from("b", "10.0.0.1"), now).is_none());
        assert!(t.refusal(&from("a", "10.0.0.2"), now).is_none());
        // 1 minute, then 2 after the next failure.
        assert!(t
            .refusal(&from("a", "10.0.0.1"), now + Duration::minutes(2))
            .is_none());
        t.record_failure(&from("a", "10.0.0.1"), now + Duration::minutes(2));
        let wait = t
            .refusal(&from("a", "10.0.0.1"), now + Duration::minutes(2))
            .unwrap()
            .seconds_left(now + Duration::minutes(2));
        assert!(wait > 60 && wait <= 120, "{wait}");
    }

    #[test]
    fn spread_failures_spare_a_remembered_browser_until_it_fails_itself() {
        let t = LoginThrottle::default();
        let now = crate::clock::system_now();
        for i in 0..10 {
            t.record_failure(&from("a", &format!("10.0.1.{i}")), now);
        }
        assert!(matches!(
            t.refusal(&from("a", "10.0.2.1"), now).map(|l| l.key),
            Some(Key::Account(_))
        ));
        let known = Attempt {
            account: "a",
            ip: "10.0.1.1",
            browser: Some("browser-1"),
        };
        assert!(t.refusal(&known, now).is_none());
        for _ in 0..5 {
            t.record_failure(&known, now);
        }
        assert!(t.refusal(&known, now).is_some());
    }

    #[test]
    fn an_address_is_locked_only_for_failures_across_accounts() {
        let t = LoginThrottle::default();
        let now = crate::clock::system_now();
        for _ in 0..30 {
            t.record_failure(&from("a", "10.0.0.9"), now);
        }
        assert!(t.refusal(&from("b", "10.0.0.9"), now).is_none());
        for account in ["b", "c"] {
            t.record_failure(&from(account, "10.0.0.9"), now);
        }
        assert!(matches!(
            t.refusal(&from("d", "10.0.0.9"), now).map(|l| l.key),
            Some(Key::Address(_))
        ));
    }

    #[test]
    fn clearing_an_account_lifts_its_locks_only() {
        let t = LoginThrottle::default();
        let now = crate::clock::system_now();
        for _ in 0..5 {
            t.record_failure(&from("a", "10.0.0.1"), now);
            t.record_failure(&from("b", "10.0.0.2"), now);
        }
        assert_eq!(t.locks_on("a", now).len(), 1);
        assert_eq!(t.clear("a", now).len(), 1);
        assert!(t.refusal(&from("a", "10.0.0.1"), now).is_none());
        assert!(t.refusal(&from("b", "10.0.0.2"), now).is_some());
    }

    #[test]
    fn an_address_lock_is_shown_and_cleared_only_for_clinics_whose_staff_it_touched() {
        let t = LoginThrottle::default();
        let now = crate::clock::system_now();
        for account in ["a@x", "b@x", "c@x", "d@x"] {
            for _ in 0..5 {
                t.record_failure(&from(account, "10.0.0.9"), now);
            }
        }
        let ours = vec!["d@x".to_string()];
        let theirs = vec!["z@y".to_string()];
        assert_eq!(t.address_locks_touching(&ours, now).len(), 1);
        assert!(t.address_locks_touching(&theirs, now).is_empty());
        assert!(t.clear_address("10.0.0.9", &theirs, now).is_none());
        assert!(t.refusal(&from("e@x", "10.0.0.9"), now).is_some());
        assert!(t.clear_address("10.0.0.9", &ours, now).is_some());
        assert!(t.refusal(&from("e@x", "10.0.0.9"), now).is_none());
    }
}
