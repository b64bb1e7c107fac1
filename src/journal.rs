//! The request journal and lint: every request to the emulated API and the page, with what it
//! concerned and how it departs from the vendor's docs. Bounded by entries (`--journal-limit`)
//! and by bytes (`MAX_BYTES`): the oldest entries go first, so a long-running mock never grows
//! without end. No HTTP types here; the front in `http` (`http/lint.rs`) fills it.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::Serialize;
use uuid::Uuid;

use crate::clock::Timestamp;

/// One way a request departs from the vendor's docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Lint {
    /// A stable identifier (`content-type`, `trailing-slash`, ...).
    pub code: &'static str,
    pub message: String,
    /// The section of the vendor's Flow Remote page it refers to.
    pub doc: &'static str,
}

/// At most this many bytes of a warning's message are kept: a value it quotes from a request (a
/// metadata key, a redirect, a flow's name) can make neither a header line no client reads nor a
/// journal entry of megabytes.
pub(crate) const MAX_LINT_MESSAGE: usize = 1000;

impl Lint {
    pub fn new(code: &'static str, doc: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: cut(message.into()), doc }
    }

    /// `code: message (vendor docs: section)`, as the journal and the header show it.
    pub fn text(&self) -> String {
        line(self.code, &[&self.message], self.doc)
    }
}

/// Sections of the vendor's Flow Remote page that lints refer to.
pub(crate) mod doc {
    pub(crate) const SESSION_CREATION: &str = "2. Session Creation";
    pub(crate) const METADATA: &str = "3. Session Metadata";
    pub(crate) const FACE2FACE: &str = "3.1. Metadata for Face2Face";
    pub(crate) const EDOCUMENT: &str = "3.2. Metadata for E-Document";
    pub(crate) const REDIRECTION: &str = "4. End user redirection";
    pub(crate) const RESULT: &str = "5. Getting the result";
    pub(crate) const VIDEO: &str = "6. Getting liveness video";
    pub(crate) const REPORT: &str = "7. Getting PDF Report";
    /// Not on the Flow Remote page: the vendor's E-Document "generate files" page.
    pub(crate) const GENERATE_FILES: &str = "E-Document: generating files";
    /// Not on the Flow Remote page: the vendor's Backend API pages.
    pub(crate) const BACKEND: &str = "Backend API";
}

/// A warning as a request's notes and the journal keep it. Most are a `Lint`, their message
/// written. The two that every request of a tight polling loop carries are kept as the numbers
/// their message is written from: the journal holds a thousand entries, and their text, written
/// again for each, kept it out of the processor's cache (BENCHMARKS.md). Their words are here,
/// once, for the header and for the journal when it is read.
#[derive(Debug, Clone)]
pub(crate) enum Warning {
    Said(Box<Lint>),
    /// `polled-after-final`: a final result (`status`) polled again, `earlier` polls after it
    /// was first answered.
    PolledAfterFinal {
        status: &'static str,
        earlier: u32,
    },
    /// `polling-too-fast`: a result polled again `ms` (under 1,000) milliseconds after the last poll.
    PollingTooFast {
        ms: u32,
    },
}

impl Warning {
    fn code(&self) -> &'static str {
        match self {
            Self::Said(lint) => lint.code,
            Self::PolledAfterFinal { .. } => "polled-after-final",
            Self::PollingTooFast { .. } => "polling-too-fast",
        }
    }

    fn doc(&self) -> &'static str {
        match self {
            Self::Said(lint) => lint.doc,
            Self::PolledAfterFinal { .. } | Self::PollingTooFast { .. } => doc::RESULT,
        }
    }

    /// The message's parts, one after another (the unused ones empty: no list is allocated on
    /// every poll), with `number` written into the buffer given.
    fn parts<'a>(&'a self, number: &'a mut itoa::Buffer) -> [&'a str; 5] {
        match self {
            Self::Said(lint) => [&lint.message, "", "", "", ""],
            Self::PolledAfterFinal { status, earlier } => [
                "this session has been ",
                status,
                " for ",
                number.format(*earlier),
                " earlier polls; FAILED is as final as FINISHED, and a client that waits for FINISHED alone polls for ever when a verification fails",
            ],
            Self::PollingTooFast { ms } => [
                "this session's result was polled again after ",
                number.format(*ms),
                " ms; poll at most once a second",
                "",
                "",
            ],
        }
    }

    /// The warning as the journal shows it.
    pub(crate) fn lint(&self) -> Lint {
        match self {
            Self::Said(lint) => (**lint).clone(),
            _ => Lint { code: self.code(), message: joined(&self.parts(&mut itoa::Buffer::new())), doc: self.doc() },
        }
    }

    /// `code: message (vendor docs: section)`, written in one allocation: the header's line.
    pub(crate) fn line(&self) -> String {
        if let Self::PolledAfterFinal { status, earlier } = self
            && let Some((head, tail)) = Self::around_count(status)
        {
            // Every poll of a finished session carries it, its count the only change.
            return joined(&[head, itoa::Buffer::new().format(*earlier), tail]);
        }
        line(self.code(), &self.parts(&mut itoa::Buffer::new()), self.doc())
    }

    /// `polled-after-final`'s line for the final `status` before its count and after it,
    /// written once per status.
    fn around_count(status: &'static str) -> Option<(&'static str, &'static str)> {
        static AROUND: [OnceLock<(String, String)>; 2] = [const { OnceLock::new() }; 2];
        let kept = match status {
            "FINISHED" => &AROUND[0],
            "FAILED" => &AROUND[1],
            _ => return None,
        };
        let (head, tail) = kept.get_or_init(|| {
            let warning = Self::PolledAfterFinal { status, earlier: 0 };
            // The count is the fourth part; a NUL, in no message, marks where it goes.
            let mut count = itoa::Buffer::new();
            let [a, b, c, _, e] = warning.parts(&mut count);
            let marked = line(warning.code(), &[a, b, c, "\0", e], warning.doc());
            let (head, tail) = marked.split_once('\0').expect("the mark is in the line");
            (head.to_owned(), tail.to_owned())
        });
        Some((head, tail))
    }

    /// The bytes the warning holds beyond its fixed size.
    fn bytes(&self) -> usize {
        match self {
            Self::Said(lint) => 2 * lint.message.len() + std::mem::size_of::<Lint>(),
            _ => 0,
        }
    }
}

/// A request's warnings: room for two in place, as many as each request of a polling loop
/// carries, so that neither its notes nor its journal record allocate for them.
pub(crate) type Warnings = smallvec::SmallVec<[Warning; 2]>;

impl From<Lint> for Warning {
    fn from(lint: Lint) -> Self {
        Self::Said(Box::new(lint))
    }
}

/// `message`, or its first `MAX_LINT_MESSAGE` bytes and how long it was.
fn cut(mut message: String) -> String {
    if message.len() <= MAX_LINT_MESSAGE {
        return message;
    }
    let whole = message.len();
    let mut end = MAX_LINT_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.truncate(end);
    message.push_str("... (cut: ");
    message.push_str(itoa::Buffer::new().format(whole));
    message.push_str(" bytes in all)");
    message
}

/// A warning's line, `code: message (vendor docs: section)`, the message given as its parts:
/// one allocation of exactly its length (a header value takes it without another).
fn line(code: &str, message: &[&str], doc: &str) -> String {
    let mut text = String::with_capacity(code.len() + message.iter().map(|p| p.len()).sum::<usize>() + doc.len() + 18);
    text.push_str(code);
    text.push_str(": ");
    for part in message {
        text.push_str(part);
    }
    text.push_str(" (vendor docs: ");
    text.push_str(doc);
    text.push(')');
    text
}

/// `parts` one after another, written into one allocation of the right size.
fn joined(parts: &[&str]) -> String {
    let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        text.push_str(part);
    }
    text
}

/// What handlers learn about the request they answer, for its journal entry, and when the
/// request came (the journal's reading of the clock: handlers read it no second time).
#[derive(Debug, Clone)]
pub(crate) struct Notes {
    noted: Arc<Mutex<Noted>>,
    at: time::OffsetDateTime,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Noted {
    pub session_id: Option<Uuid>,
    pub api_key: Option<ApiKey>,
    pub lint: Warnings,
    /// Sessions the store let go to make room for the one this request created.
    pub evicted: Vec<Uuid>,
    /// Where links to a session made by this request go: the vendor's end-user host, when the
    /// request came to the vendor's API host (over TLS or the proxy).
    pub link_base: Option<Arc<str>>,
}

impl Notes {
    fn with<R>(&self, f: impl FnOnce(&mut Noted) -> R) -> R {
        f(&mut self.noted.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn session(&self, id: Uuid) {
        self.with(|n| n.session_id = Some(id));
    }

    pub(crate) fn api_key(&self, key: &str) {
        let key = ApiKey::Own(key.into());
        self.with(|n| n.api_key = Some(key));
    }

    /// The api key the request's query carries at `span`, as it came: no copy is made.
    pub(crate) fn api_key_in_query(&self, span: std::ops::Range<usize>) {
        self.with(|n| n.api_key = Some(ApiKey::InQuery(span)));
    }

    pub(crate) fn link_base(&self, base: Arc<str>) {
        self.with(|n| n.link_base = Some(base));
    }

    /// Notes of a request that came `at`.
    pub(crate) fn received(at: time::OffsetDateTime) -> Self {
        Self { noted: Arc::default(), at }
    }

    /// When the request came.
    pub(crate) fn at(&self) -> time::OffsetDateTime {
        self.at
    }

    pub(crate) fn links_to(&self) -> Option<Arc<str>> {
        self.with(|n| n.link_base.clone())
    }

    pub(crate) fn evicted(&self, ids: Vec<Uuid>) {
        self.with(|n| n.evicted = ids);
    }

    /// A warning about the request: a `Lint`, or a `Warning` kept as its numbers.
    pub(crate) fn lint(&self, warning: impl Into<Warning>) {
        let warning = warning.into();
        self.with(|n| n.lint.push(warning));
    }

    pub(crate) fn lints(&self) -> Vec<Lint> {
        self.with(|n| n.lint.iter().map(Warning::lint).collect())
    }

    pub(crate) fn has_lint(&self) -> bool {
        self.with(|n| !n.lint.is_empty())
    }

    pub(crate) fn taken(&self) -> Noted {
        self.with(std::mem::take)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: u64,
    /// When the request came, RFC 3339 in UTC.
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// The method and the path: the usual ones are not copied for every request.
    #[schema(value_type = String)]
    pub method: Cow<'static, str>,
    #[schema(value_type = String)]
    pub path: Cow<'static, str>,
    #[schema(value_type = String)]
    pub query: Arc<str>,
    pub status: u16,
    pub session_id: Option<Uuid>,
    pub api_key: Option<String>,
    /// Each warning as one line (`code: message (vendor docs: section)`): written when the
    /// journal is read (`Journal::list`), not for every request.
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

/// The api key a request carried, as its record keeps it: where it is in the request's query
/// (a polling request's `flow_api_key`, kept with the query anyway), or its own copy.
#[derive(Debug, Clone)]
pub(crate) enum ApiKey {
    InQuery(std::ops::Range<usize>),
    Own(Box<str>),
}

impl ApiKey {
    fn text<'a>(&'a self, query: &'a str) -> &'a str {
        match self {
            Self::InQuery(span) => query.get(span.clone()).unwrap_or_default(),
            Self::Own(key) => key,
        }
    }
}

/// What the journal keeps of a request until it is read, as an `Entry`: its warnings as
/// `Warning`s, and no room for their lines, which are written when it is read.
#[derive(Debug)]
pub(crate) struct Record {
    pub at: time::OffsetDateTime,
    pub method: Cow<'static, str>,
    pub path: Cow<'static, str>,
    pub query: Arc<str>,
    pub status: u16,
    pub session_id: Option<Uuid>,
    pub api_key: Option<ApiKey>,
    pub warnings: Warnings,
    pub evicted: Box<[Uuid]>,
    pub via: Via,
    pub host: Option<Box<str>>,
}

impl Record {
    /// About how many bytes the record holds beyond its fixed size.
    fn bytes(&self) -> usize {
        let owned = |text: &Cow<'static, str>| if let Cow::Owned(t) = text { t.len() } else { 0 };
        owned(&self.method)
            + owned(&self.path)
            + self.query.len()
            + match &self.api_key {
                Some(ApiKey::Own(key)) => key.len(),
                _ => 0,
            }
            + self.host.as_ref().map_or(0, |host| host.len())
            + self.warnings.iter().map(Warning::bytes).sum::<usize>()
            + if self.warnings.spilled() { self.warnings.len() * std::mem::size_of::<Warning>() } else { 0 }
            + self.evicted.len() * 16
    }

    fn api_key(&self) -> Option<&str> {
        self.api_key.as_ref().map(|key| key.text(&self.query))
    }

    /// The entry `GET /__admin/requests` and `MockServer::received_requests` show.
    fn entry(&self, id: u64) -> Entry {
        Entry {
            id,
            at: Timestamp(self.at),
            method: self.method.clone(),
            path: self.path.clone(),
            query: Arc::clone(&self.query),
            status: self.status,
            session_id: self.session_id,
            api_key: self.api_key().map(str::to_owned),
            lint: self.warnings.iter().map(Warning::line).collect(),
            lint_details: self.warnings.iter().map(Warning::lint).collect(),
            evicted: self.evicted.to_vec(),
            via: self.via.as_str(),
            host: self.host.as_deref().map(str::to_owned),
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
pub struct Filter {
    /// A part of the path.
    pub path: Option<String>,
    pub session_id: Option<Uuid>,
    pub api_key: Option<String>,
}

/// The most the journal holds in bytes (its entries' text), beside `--journal-limit` entries:
/// a request can carry a long query and many warnings.
pub(crate) const MAX_BYTES: usize = 16 * 1024 * 1024;

pub struct Journal {
    entries: Mutex<Entries>,
    limit: usize,
    max_bytes: usize,
}

struct Entries {
    /// Each record with its id.
    held: VecDeque<(u64, Record)>,
    /// The text the held entries carry (`Entry::bytes`).
    bytes: usize,
    /// The id of the next entry: ids keep counting when old entries go.
    next_id: u64,
}

impl Journal {
    pub fn new(limit: usize) -> Self {
        Self::bounded(limit, MAX_BYTES)
    }

    pub fn bounded(limit: usize, max_bytes: usize) -> Self {
        Self { entries: Mutex::new(Entries { held: VecDeque::new(), bytes: 0, next_id: 1 }), limit, max_bytes }
    }

    pub(crate) fn record(&self, record: Record) {
        if self.limit == 0 {
            return;
        }
        let bytes = record.bytes();
        // Freed outside the lock, which every request takes: usually the one oldest record, kept
        // without allocating a list for it.
        let (mut dropped_one, mut dropped) = (None, Vec::new());
        {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            let id = entries.next_id;
            entries.next_id += 1;
            while !entries.held.is_empty()
                && (entries.held.len() >= self.limit || entries.bytes + bytes > self.max_bytes)
                && let Some((_, old)) = entries.held.pop_front()
            {
                entries.bytes -= old.bytes();
                match dropped_one {
                    None => dropped_one = Some(old),
                    Some(_) => dropped.push(old),
                }
            }
            entries.bytes += bytes;
            entries.held.push_back((id, record));
        }
        // `dropped_one` and `dropped` go here, after the lock (each where it is: a tuple of them
        // would be one more copy of a record).
    }

    /// The entries `filter` selects, newest first: `offset` of them skipped, at most `limit`
    /// (`GET /__admin/requests` pages), and how many it selects in all.
    pub fn list(&self, filter: &Filter, offset: usize, limit: usize) -> (Vec<Entry>, usize) {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let selected = || {
            entries
                .held
                .iter()
                .rev()
                .filter(|(_, r)| filter.path.as_deref().is_none_or(|p| r.path.contains(p)))
                .filter(|(_, r)| filter.session_id.is_none_or(|s| r.session_id == Some(s)))
                .filter(|(_, r)| filter.api_key.as_deref().is_none_or(|k| r.api_key() == Some(k)))
        };
        let page = selected().skip(offset).take(limit).map(|(id, record)| record.entry(*id)).collect();
        (page, selected().count())
    }

    pub fn clear(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.held.clear();
        entries.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Record {
        Record {
            at: time::OffsetDateTime::UNIX_EPOCH,
            method: "GET".into(),
            path: path.to_owned().into(),
            query: "".into(),
            status: 200,
            session_id: None,
            api_key: None,
            warnings: Warnings::new(),
            evicted: Box::default(),
            via: Via::Direct,
            host: None,
        }
    }

    #[test]
    fn a_long_message_is_cut_at_a_character_boundary_saying_how_long_it_was() {
        let short = Lint::new("unknown-key", "3. Session Metadata", "unknown key metadata.a is ignored");
        assert_eq!(short.message, "unknown key metadata.a is ignored");
        // "é" is two bytes: the cut falls inside one at byte 1,000 and moves back before it.
        let long = format!("k{}", "é".repeat(2000));
        let lint = Lint::new("unknown-key", "3. Session Metadata", long.clone());
        assert!(lint.message.len() <= MAX_LINT_MESSAGE + 40, "{}", lint.message.len());
        assert!(lint.message.starts_with(&long[..999]), "the beginning is kept");
        assert!(lint.message.ends_with("... (cut: 4001 bytes in all)"), "{}", &lint.message[990..]);
    }

    #[test]
    fn a_warning_kept_as_its_numbers_reads_as_the_lint_it_stands_for() {
        let after_final = Warning::PolledAfterFinal { status: "FAILED", earlier: 7 };
        let said = "this session has been FAILED for 7 earlier polls; FAILED is as final as FINISHED, and a client that waits for FINISHED alone polls for ever when a verification fails";
        assert_eq!(after_final.lint(), Lint::new("polled-after-final", doc::RESULT, said));
        let too_fast = Warning::PollingTooFast { ms: 3 };
        let said = "this session's result was polled again after 3 ms; poll at most once a second";
        assert_eq!(too_fast.lint(), Lint::new("polling-too-fast", doc::RESULT, said));
        assert_eq!((after_final.bytes(), too_fast.bytes()), (0, 0), "no text is kept for them");
        for warning in [after_final, too_fast, Warning::from(Lint::new("unknown-key", doc::METADATA, "key a"))] {
            assert_eq!(warning.line(), warning.lint().text(), "the header's line is the journal's");
        }
        // Its line is kept around the count for the final statuses, written whole for others.
        for status in ["FINISHED", "FAILED", "PROGRESS"] {
            for earlier in [0, 2, 7, 1_000_000, u32::MAX] {
                let warning = Warning::PolledAfterFinal { status, earlier };
                assert_eq!(warning.line(), warning.lint().text(), "{warning:?}");
                assert!(warning.line().contains(&format!(" {status} for {earlier} earlier polls;")), "{warning:?}");
            }
        }
    }

    #[test]
    fn the_journal_keeps_the_newest_entries_up_to_its_limit() {
        let journal = Journal::new(3);
        for i in 0..5 {
            journal.record(entry(&format!("/p{i}")));
        }
        let all = || journal.list(&Filter::default(), 0, usize::MAX).0;
        let paths: Vec<String> = all().into_iter().map(|e| e.path.into_owned()).collect();
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
            e.query = format!("{i:04}{}", "x".repeat(996)).into();
            journal.record(e);
        }
        let (held, total) = journal.list(&Filter::default(), 0, usize::MAX);
        // Each entry holds its 1,000-byte query and its 2-byte path.
        assert_eq!(total, 9, "nine entries of 1,002 bytes fit in ten thousand");
        assert!(held[0].query.starts_with("0099") && held[8].query.starts_with("0091"), "the newest are kept");
    }
}
