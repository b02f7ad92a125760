//! kopf's peers: the keep-alives operators write into a peering object's `status`
//! (`{identity: {priority, lifetime, lastseen}}`), and the verdict they lead to.

use crate::storage::progress::{format_timestamp, parse_timestamp};
use crate::structs::repr::str_repr;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// One operator's keep-alive.
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    pub identity: String,
    pub priority: i64,
    /// Seconds.
    pub lifetime: i64,
    pub lastseen: Timestamp,
}

impl Peer {
    /// A keep-alive written now.
    pub fn now(identity: &str, priority: i64, lifetime: i64) -> Self {
        Peer {
            identity: identity.to_string(),
            priority,
            lifetime,
            lastseen: Timestamp::now(),
        }
    }

    /// Read from one `status` entry; missing fields as kopf defaults them (a missing
    /// `lastseen` is "now").
    pub fn parse(identity: &str, info: &Value) -> Self {
        let number = |key: &str, default: i64| {
            let value = &info[key];
            value
                .as_i64()
                .or_else(|| value.as_f64().map(|f| f as i64))
                .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
                .unwrap_or(default)
        };
        Peer {
            identity: identity.to_string(),
            priority: number("priority", 0),
            lifetime: number("lifetime", 60),
            lastseen: info["lastseen"]
                .as_str()
                .and_then(parse_timestamp)
                .unwrap_or_else(Timestamp::now),
        }
    }

    pub fn deadline(&self) -> Timestamp {
        self.lastseen
            .checked_add(SignedDuration::from_secs(self.lifetime))
            .unwrap_or(self.lastseen)
    }

    pub fn is_dead(&self, now: Timestamp) -> bool {
        self.deadline() <= now
    }

    /// The `status` entry: kopf's three fields.
    pub fn as_json(&self) -> Value {
        json!({
            "priority": self.priority,
            "lifetime": self.lifetime,
            "lastseen": format_timestamp(self.lastseen),
        })
    }
}

impl std::fmt::Display for Peer {
    /// As kopf's `repr()` of a peer, which its log lines show.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<Peer {}: priority={}, lifetime={}, lastseen={}>",
            self.identity,
            self.priority,
            self.lifetime,
            str_repr(&format_timestamp(self.lastseen))
        )
    }
}

/// Peers as kopf logs a list of them: `[<Peer a: …>, <Peer b: …>]`.
pub fn list_repr(peers: &[Peer]) -> String {
    let items: Vec<String> = peers.iter().map(Peer::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// What the peers in a peering object's status mean for an operator.
#[derive(Debug, Default, PartialEq)]
pub struct Verdict {
    /// All peers, ourselves included.
    pub peers: Vec<Peer>,
    /// Peers whose keep-alive has expired: to be removed.
    pub dead: Vec<Peer>,
    /// Live others with a higher priority: we pause in their favour.
    pub higher: Vec<Peer>,
    /// Live others with our priority: kopf pauses everyone.
    pub same: Vec<Peer>,
}

impl Verdict {
    pub fn of(status: &Value, identity: &str, priority: i64, now: Timestamp) -> Self {
        let mut verdict = Verdict::default();
        let Some(entries) = status.as_object() else {
            return verdict;
        };
        for (id, info) in entries {
            if info.is_null() {
                continue;
            }
            let peer = Peer::parse(id, info);
            if peer.is_dead(now) {
                verdict.dead.push(peer.clone());
            } else if peer.identity != identity {
                if peer.priority > priority {
                    verdict.higher.push(peer.clone());
                } else if peer.priority == priority {
                    verdict.same.push(peer.clone());
                }
            }
            verdict.peers.push(peer);
        }
        verdict
    }

    /// Whether the operator must pause.
    pub fn pauses(&self) -> bool {
        !self.higher.is_empty() || !self.same.is_empty()
    }

    /// When the earliest blocking peer expires, if it does not renew: the moment to look again.
    pub fn next_check(&self) -> Option<Timestamp> {
        self.higher
            .iter()
            .chain(&self.same)
            .map(Peer::deadline)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_priorities_pause_and_dead_peers_are_found() {
        let now = Timestamp::now();
        let fresh = format_timestamp(now);
        let status = json!({
            "me": {"priority": 0, "lifetime": 60, "lastseen": fresh},
            "boss": {"priority": 100, "lifetime": 60, "lastseen": fresh},
            "ghost": {"priority": 100, "lifetime": 1, "lastseen": "2020-01-01T00:00:00+00:00"},
            "gone": null,
        });
        let verdict = Verdict::of(&status, "me", 0, now);
        assert_eq!(verdict.higher.len(), 1);
        assert_eq!(verdict.dead[0].identity, "ghost");
        assert!(verdict.pauses());
        assert!(!Verdict::of(&status, "boss", 100, now).pauses());
        assert!(Verdict::of(&status, "other", 100, now).pauses());
    }

    #[test]
    fn peers_are_shown_as_kopf_shows_them() {
        let peer = Peer::parse(
            "op@host",
            &json!({"priority": 100, "lifetime": 60, "lastseen": "2026-11-29T05:31:56.123456+00:00"}),
        );
        assert_eq!(
            list_repr(&[peer]),
            "[<Peer op@host: priority=100, lifetime=60, lastseen='2026-11-29T05:31:56.123456+00:00'>]"
        );
    }
}
