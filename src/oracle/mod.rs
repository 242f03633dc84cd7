//! The oracle: an index of every owner's identifying values that tells, for each response, whose
//! data it carries and whether the viewer may see it. It does no I/O and knows no population type.
//!
//! # Flow
//!
//! The load runner interns field names and adds every owner's values to an [`OracleBuilder`]
//! (plus households), builds one [`Oracle`] shared by every simulated user, calls
//! [`Oracle::scan_response`] on each response and [`Oracle::verdict`] on the sightings.
//!
//! # Matching
//!
//! A hash index over fingerprints, not an automaton: the index keeps no value bytes, and a scan
//! is one pass over the haystack that stops only where a value may start.
//!
//! - *Fingerprints* (`fingerprint.rs`): each value, ASCII-lowercased, is reduced to a keyed
//!   128-bit fingerprint (keys drawn at random per builder, so no page can be crafted to
//!   collide). The value table (`table.rs`) stores 8 bytes of it plus a 3–4-byte payload (owner and
//!   field set) per value, grouped in buckets of about six chosen by the other 64 bits; two
//!   values that would share a bucket and its 8 stored bytes are kept in full in a short
//!   exception list, so a value is never confused with another value. A span of a page that is
//!   no value is reported only if its fingerprint equals one in its bucket: about 6 × 2^-64 per
//!   span looked up.
//! - *Where to look* (`scan/`): a value starts where the previous byte is not ASCII
//!   alphanumeric, so the scan classifies 64 bytes at a time (AVX2 where the CPU has it, else
//!   SSE2) and visits word starts only. A *start filter* (a bitmap over the first four bytes and the length of the first
//!   alphanumeric run, a few KB: a real population's values share few such pairs) rejects
//!   nearly every word of markup or prose. A position that passes is tried at each length some
//!   value with that first run has and where a boundary follows; a *span filter* (12 bits per
//!   value over first and last four bytes, length, first run) rejects most of those spans; the
//!   survivors are fingerprinted and looked up.
//! - *Exactness*: every delimited occurrence of every value passes both filters (they are
//!   built from the values themselves) and is found, whatever values overlap or contain one
//!   another: `Paul Martin` inside `Jean-Paul Martin`, or `Jean Martin` in
//!   `Jean Martin-Dupontel` beside `Jean Martin-Dupont`. The Aho-Corasick automaton the oracle
//!   used before (overlapping search, `MatchKind::Standard`) is kept in tests as the
//!   reference; proptests and fixed pages check that both give the same sightings.
//!
//! *Presentations* (`kind.rs`, `presentation.rs`). A field has a [`ValueKind`]: the index holds
//! each value's canonical form (for a NIR, IBAN or French phone: its letters and digits; a NIR's
//! 13-character body beside it), and the scan reads the presentations of the kind back to it at
//! the positions that pass the start filter: separators where the kind's groups end, `+33`
//! prefixes, HTML, JSON and percent escapes. The builder puts the first four bytes and first run of
//! every presentation into the start filter, so the hot loop is the same loop with the same
//! per-byte cost; a presentation costs a parse only where a value of the kind may start, and a
//! lookup only where the parse left the canonical form (the exact scan has the rest).
//!
//! *Boundary rule.* A match counts only if the byte before and the byte after it are not ASCII
//! alphanumeric (or it touches the haystack's start or end). So a 7-digit file number inside a
//! longer number, the 13-character prefix of a 15-character NIR, or digits inside a hex session
//! token are not sightings. Bytes of non-ASCII UTF-8 characters and `_` are delimiters. Values
//! match ignoring ASCII case (e-mail addresses, IBAN letters).
//!
//! # Limits (what the oracle does not see)
//!
//! - It never builds a value from pieces: a value split by markup (`<b>06 39</b> 98 12 34`),
//!   grouped otherwise than its kind allows, a `text` value escaped, or any value in base64 is
//!   not seen. The caller decompresses bodies; it may add decoded forms as further scans.
//! - E-mail addresses longer than 128 bytes are matched as written only, not escaped.
//! - Case folding is ASCII only: `ÉLODIE` does not match `élodie`.
//! - Header names are not scanned, only header values.
//! - Values shorter than [`MIN_VALUE_CHARS`] characters are refused: they match unrelated text.
//!   Short values in a dense space still can (with a million owners, one 7-digit number in ten is
//!   someone's file number), so a page's own unrelated 7-digit runs can be reported.
//!
//! # Sightings and verdicts
//!
//! [`Oracle::scan`] keeps every occurrence, with its byte range, sorted by position (the
//! evidence). [`Oracle::verdict`] reduces the foreign ones to the first sighting per
//! (owner, field, location), ordered by owner, field, location, so the verdict depends only on
//! the set of sightings, never on their order or number of repeats.
//!
//! # Cost
//!
//! Measured by `cargo bench --bench oracle` (criterion, one core) on the demo portal's own pages
//! and populations from crossleak's generator (13 renderings per beneficiary then; with kinds, 7
//! canonical values, and the other forms are presentations), on a shared 2-core VM
//! where other jobs ran too; ranges span three runs (the host alone moves the 2 KB HTML page
//! between ~1.0 and ~1.5 GiB/s). The latest run is in `BENCHMARKS.md`.
//!
//! | beneficiaries | build | index | 2 KB HTML | 2 KB JSON | 200 KB HTML | 200 KB JSON |
//! |---|---|---|---|---|---|---|
//! | 1,000 | < 0.01 s | 168 B each | 1.0–1.6 GiB/s | 1.2–2.0 GiB/s | 1.3–2.1 GiB/s | 2.3–2.5 GiB/s |
//! | 100,000 | 0.26 s | 176 B each | 1.5 GiB/s | 1.2–1.6 GiB/s | 1.1–1.8 GiB/s | 1.4–1.9 GiB/s |
//! | 1,000,000 | 3.6–4.7 s | 175 B each | 1.0–1.5 GiB/s | 1.1–1.6 GiB/s | 1.1–1.7 GiB/s | 1.3–1.9 GiB/s |
//!
//! That table predates presentations and scans each page again and again (the table stays in
//! cache). With presentations on and the table cold (`measure_cold_scan_1m_owners` in
//! `bench.rs`: 10^6 owners, 10 values each, 256 synthetic 2 KB pages in turn, per second on a
//! core, load average 0.9–1.3; under load 3–8, with the cache shared, about 0.85–1.0 cold):
//!
//! | 10^6 owners, presentations on | index | add + build | cold 2 KB pages | digits blanked (hot loop) |
//! |---|---|---|---|---|
//! | per 2 KB page: 363 word starts, 26 past the start filter, 50 spans tried, 10 looked up | 131 B each | 9.2 s + 2.4 s | 1.24–1.28 GiB/s | 1.93–1.99 GiB/s |
//!
//! A scan costs about the same whatever the number of owners: a page's words meet the start
//! filter (in cache), and only the few spans that pass touch the table. The build (from a
//! population, values rendered on a second thread while they are added) is bound by the
//! duplicate check's memory accesses and by allocating the records; `src/oracle/bench.rs`
//! (`cargo test --release --lib oracle::bench -- --ignored --nocapture`) compares the index
//! with the reference automaton, which took 11 s and ~2 KB per owner at 100,000 owners and
//! scanned at ~0.2 GiB/s.

mod builder;
mod classify;
mod error;
mod fingerprint;
mod huge_pages;
mod index;
mod kind;
mod presentation;
mod scan;
mod sighting;
mod table;
mod verdict;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod proptests;

pub use builder::OracleBuilder;
pub use error::{mask, OracleError, MIN_VALUE_CHARS};
pub use index::Oracle;
pub use kind::{ValueKind, SEPARATORS};
pub use sighting::{FieldId, Location, OwnerId, Sighting};
pub use verdict::Verdict;
