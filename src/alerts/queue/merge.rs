//! How one fingerprint's reports from several sources become one row (the
//! rules are in the parent module's doc), and the fingerprint keys.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::Source;
use crate::alerts::model::{Alert, AlertState, SourceKind};

/// A map keyed by fingerprint (see `key`).
pub(super) type FpMap<V> = HashMap<u64, V, BuildHasherDefault<FpHasher>>;

/// A fingerprint is already a 64-bit hash (16 hex digits): parsing it beats
/// hashing and cloning the string. Anything else (a source with its own
/// scheme) is hashed with FNV-1a. Lookups by string check the stored
/// fingerprint, so a collision cannot return the wrong alert.
pub(super) fn key(fingerprint: &str) -> u64 {
    if fingerprint.len() == 16
        && fingerprint.bytes().all(|b| b.is_ascii_hexdigit())
        && let Ok(k) = u64::from_str_radix(fingerprint, 16)
    {
        return k;
    }
    fingerprint.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Mixes a key's bits (fold of a 128-bit multiply) so the map's bucket bits
/// and tag bits both vary; the keys are hashes already, so no SipHash.
#[derive(Debug, Default)]
pub struct FpHasher(u64);

impl Hasher for FpHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let m = u128::from(self.0 ^ n) * 0x9e37_79b9_7f4a_7c15;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

/// One row from every source's report of one fingerprint, in source order;
/// `parts` is never empty. Shares the source's alert when there is nothing
/// to change, which is the common case.
pub(super) fn merge(parts: &[(usize, &Arc<Alert>)], sources: &[Source], acked: bool) -> Arc<Alert> {
    let first = parts[0].1;
    let alerts = || parts.iter().map(|(_, a)| &***a);
    let from_am = |s: AlertState| alerts().any(|a| a.source_kind == SourceKind::Alertmanager && a.state == s);
    let mut state = if from_am(AlertState::Silenced) {
        AlertState::Silenced
    } else if alerts().any(|a| a.state == AlertState::Inhibited && a.source_kind != SourceKind::Prometheus) {
        // Alertmanager's inhibit rules, or opsdeck's own worse-rule-wins.
        AlertState::Inhibited
    } else if alerts().all(|a| a.state == AlertState::Pending) {
        AlertState::Pending
    } else {
        // Only Alertmanager knows silences; anything else not pending is firing.
        AlertState::Firing
    };
    if acked && matches!(state, AlertState::Firing | AlertState::Pending) {
        state = AlertState::Acked;
    }
    if parts.len() == 1 && first.state == state {
        return Arc::clone(first);
    }
    let mut m = Alert::clone(first);
    m.state = state;
    if parts.len() > 1 {
        m.seen_by = parts.iter().filter_map(|(i, _)| sources.get(*i).map(|s| s.name.clone())).collect();
        m.starts_at = alerts().filter_map(|a| a.starts_at).min();
        if m.annotations.is_empty()
            && let Some(a) = alerts().find(|a| !a.annotations.is_empty())
        {
            m.annotations = a.annotations.clone();
        }
        m.generator_url = alerts().find_map(|a| a.generator_url.clone());
        m.value = alerts().find_map(|a| a.value.clone());
        m.ends_at = alerts().find_map(|a| a.ends_at);
        for a in alerts().skip(1) {
            union(&mut m.silenced_by, &a.silenced_by);
            union(&mut m.inhibited_by, &a.inhibited_by);
        }
    }
    Arc::new(m)
}

fn union(into: &mut Vec<String>, from: &[String]) {
    for s in from {
        if !into.contains(s) {
            into.push(s.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::model::fingerprint;

    #[test]
    fn keys_are_the_fingerprints_hash() {
        assert_eq!(key("cbf29ce484222325"), 0xcbf2_9ce4_8422_2325);
        assert_eq!(key("00000000000000ff"), 0xff);
        // The order of keys is the order of the hex strings.
        assert!(key("0a00000000000000") < key("a000000000000000"));
        // Not 16 hex digits: hashed, consistently.
        assert_eq!(key("+bf29ce48422232"), key("+bf29ce48422232"));
        assert_ne!(key("my-own-id"), key("my-own-iD"));
        let labels = std::collections::BTreeMap::from([("a".to_owned(), "b".to_owned())]);
        assert_eq!(format!("{:016x}", key(&fingerprint(&labels))), fingerprint(&labels));
    }
}
