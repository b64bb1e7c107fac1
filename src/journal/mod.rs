//! The request journal: every request to the vendor's routes, with what it concerned and how it
//! departs from the vendor's docs (its lints). Bounded by entries (`--journal-limit`) and by bytes
//! (`MAX_BYTES`): the oldest entries go first, so a long-running mock never grows without end.
//! No HTTP types here; the front (`app::journaling`) fills it.

mod lint;
mod notes;

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use uuid::Uuid;

use crate::clock::Timestamp;
pub use lint::Lint;
pub(crate) use lint::doc;
pub(crate) use notes::{Noted, Notes, RouteFacts};

/// One request, as `GET /__admin/requests` and `MockServer::received_requests` show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: u64,
    /// When the request came, RFC 3339 in UTC.
    #[schema(value_type = String)]
    pub at: Timestamp,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub session_id: Option<Uuid>,
    pub api_key: Option<String>,
    /// Each warning as one line (`code: message (vendor docs: section)`).
    pub lint: Vec<String>,
    /// The same warnings, structured.
    pub lint_details: Vec<Lint>,
    /// Sessions evicted to make room for the session this request created (`--max-sessions`,
    /// `--max-store-bytes`); absent when none were.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evicted: Vec<Uuid>,
    /// Which way the request came: `direct` (plain HTTP to the mock's port), `tls` (its HTTPS
    /// port), `proxy` (an absolute-form request to the plain port as a proxy), `tunnel` (HTTPS
    /// inside a `CONNECT` to the plain port).
    #[schema(value_type = String)]
    pub via: &'static str,
    /// The `Host` the client named, for every request that did not come `direct`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// What the journal keeps of a request.
#[derive(Debug)]
pub(crate) struct Record {
    pub at: time::OffsetDateTime,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub noted: Noted,
    pub via: Via,
    pub host: Option<String>,
}

impl Record {
    /// About how many bytes the record holds beyond its fixed size.
    fn bytes(&self) -> usize {
        self.method.len()
            + self.path.len()
            + self.query.len()
            + self.noted.api_key.as_ref().map_or(0, String::len)
            + self.host.as_ref().map_or(0, String::len)
            + self.noted.lints.iter().map(|l| 2 * l.message.len() + std::mem::size_of::<Lint>()).sum::<usize>()
            + self.noted.evicted.len() * 16
    }

    fn entry(&self, id: u64) -> Entry {
        Entry {
            id,
            at: Timestamp(self.at),
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            status: self.status,
            session_id: self.noted.session_id,
            api_key: self.noted.api_key.clone(),
            lint: self.noted.lints.iter().map(Lint::text).collect(),
            lint_details: self.noted.lints.clone(),
            evicted: self.noted.evicted.clone(),
            via: self.via.as_str(),
            host: self.host.clone(),
        }
    }
}

/// Which way a request reached the mock (SPEC §14); the server marks each request with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Via {
    #[default]
    Direct,
    Tls,
    Proxy,
    Tunnel,
}

impl Via {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Tls => "tls",
            Self::Proxy => "proxy",
            Self::Tunnel => "tunnel",
        }
    }
}

/// Which entries `GET /__admin/requests` lists.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    /// A part of the path.
    pub path: Option<String>,
    pub session_id: Option<Uuid>,
    pub api_key: Option<String>,
}

/// The most the journal holds in bytes (its entries' text), beside `--journal-limit` entries:
/// a request can carry a long query and many warnings.
pub(crate) const MAX_BYTES: usize = 16 * 1024 * 1024;

pub(crate) struct Journal {
    entries: Mutex<Entries>,
    limit: usize,
    max_bytes: usize,
}

struct Entries {
    /// Each record with its id.
    held: VecDeque<(u64, Record)>,
    /// The bytes the held records carry (`Record::bytes`).
    bytes: usize,
    /// The id of the next entry: ids keep counting when old entries go.
    next_id: u64,
}

impl Journal {
    pub(crate) fn new(limit: usize) -> Self {
        Self::bounded(limit, MAX_BYTES)
    }

    pub(crate) fn bounded(limit: usize, max_bytes: usize) -> Self {
        Self { entries: Mutex::new(Entries { held: VecDeque::new(), bytes: 0, next_id: 1 }), limit, max_bytes }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn record(&self, record: Record) {
        if self.limit == 0 {
            return;
        }
        let bytes = record.bytes();
        // The records dropped are freed after the lock, which every request takes.
        let mut dropped = Vec::new();
        let mut entries = self.entries();
        let id = entries.next_id;
        entries.next_id += 1;
        while !entries.held.is_empty()
            && (entries.held.len() >= self.limit || entries.bytes + bytes > self.max_bytes)
            && let Some((_, old)) = entries.held.pop_front()
        {
            entries.bytes -= old.bytes();
            dropped.push(old);
        }
        entries.bytes += bytes;
        entries.held.push_back((id, record));
        drop(entries);
        drop(dropped);
    }

    /// The entries `filter` selects, newest first: `offset` of them skipped, at most `limit`
    /// (`GET /__admin/requests` pages), and how many it selects in all.
    pub(crate) fn list(&self, filter: &Filter, offset: usize, limit: usize) -> (Vec<Entry>, usize) {
        let entries = self.entries();
        let selected = || {
            entries.held.iter().rev().filter(|(_, r)| {
                filter.path.as_deref().is_none_or(|p| r.path.contains(p))
                    && filter.session_id.is_none_or(|s| r.noted.session_id == Some(s))
                    && filter.api_key.as_deref().is_none_or(|k| r.noted.api_key.as_deref() == Some(k))
            })
        };
        let page = selected().skip(offset).take(limit).map(|(id, record)| record.entry(*id)).collect();
        (page, selected().count())
    }

    pub(crate) fn clear(&self) {
        let mut entries = self.entries();
        entries.held.clear();
        entries.bytes = 0;
    }

    /// The entries of requests made with `key` gone (its reset, SPEC §16).
    pub(crate) fn remove_key(&self, key: &str) {
        let mut entries = self.entries();
        let Entries { held, bytes, .. } = &mut *entries;
        held.retain(|(_, record)| {
            let keep = record.noted.api_key.as_deref() != Some(key);
            if !keep {
                *bytes -= record.bytes();
            }
            keep
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Record {
        Record {
            at: time::OffsetDateTime::UNIX_EPOCH,
            method: "GET".into(),
            path: path.to_owned(),
            query: String::new(),
            status: 200,
            noted: Noted::default(),
            via: Via::Direct,
            host: None,
        }
    }

    #[test]
    fn the_journal_keeps_the_newest_entries_up_to_its_limit() {
        let journal = Journal::new(3);
        for i in 0..5 {
            journal.record(entry(&format!("/p{i}")));
        }
        let all = || journal.list(&Filter::default(), 0, usize::MAX).0;
        let paths: Vec<String> = all().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["/p4", "/p3", "/p2"], "newest first, the oldest dropped");
        let ids: Vec<u64> = all().into_iter().map(|e| e.id).collect();
        assert_eq!(ids, [5, 4, 3], "ids keep counting");
        let (page, total) = journal.list(&Filter::default(), 1, 1);
        assert_eq!((page[0].id, total), (4, 3), "a page, and how many there are");
    }

    #[test]
    fn the_journal_keeps_its_bytes_under_its_byte_limit() {
        let journal = Journal::bounded(1000, 10_000);
        for i in 0..100 {
            let mut e = entry("/p");
            e.query = format!("{i:04}{}", "x".repeat(996));
            journal.record(e);
        }
        let (held, total) = journal.list(&Filter::default(), 0, usize::MAX);
        // Each entry holds its 1,000-byte query and its 2-byte path.
        assert_eq!(total, 9, "nine entries of 1,002 bytes fit in ten thousand");
        assert!(held[0].query.starts_with("0099") && held[8].query.starts_with("0091"), "the newest are kept");
    }
}
