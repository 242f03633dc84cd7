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
//! One Aho-Corasick automaton holds every value of every owner; a scan is one pass over the
//! bytes, whatever the number of owners. Values are matched as raw bytes, ignoring ASCII case
//! (e-mail addresses, IBAN letters): values are stored lowercased and each scan lowercases a copy
//! of its haystack (offsets are unchanged), which builds about 3.5 times faster than aho-corasick's
//! own `ascii_case_insensitive` automaton and takes 20% less memory.
//!
//! *Match semantics: overlapping search with `MatchKind::Standard`.* It reports every
//! occurrence of every value, including values inside other values. Leftmost-longest (or
//! leftmost-first) would report one match per region and hide the others: a shorter value of
//! another owner inside a longer one (`Paul Martin` inside `Jean-Paul Martin`), or a shorter
//! value that meets the boundary rule where the longer one at the same start does not
//! (`Jean Martin` in `Jean Martin-Dupontel`, hidden by `Jean Martin-Dupont`). Overlapping
//! search costs nothing measurable here (same throughput as `find_iter`): it is the automaton's
//! native mode, and matches are rare on real pages.
//!
//! *Boundary rule.* A match counts only if the byte before and the byte after it are not ASCII
//! alphanumeric (or it touches the haystack's start or end). So a 7-digit file number inside a
//! longer number, the 13-character prefix of a 15-character NIR, or digits inside a hex session
//! token are not sightings. Bytes of non-ASCII UTF-8 characters and `_` are delimiters.
//!
//! # Limits (what the oracle does not see)
//!
//! - It never builds a value from pieces: a value split by markup (`<b>06 39</b> 98 12 34`),
//!   written with other separators than the ones indexed (index `0639981234` *and*
//!   `06 39 98 12 34`), or escaped (`&amp;`, `%40`, `\u00e9`, base64) is not seen. The caller
//!   decompresses bodies; it may add decoded forms as further scans.
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
//! Measured by `bench.rs` (`cargo test --release --lib oracle::bench -- --ignored --nocapture`)
//! on synthetic owners with 12 realistic values each (~215 bytes), on a shared 2-core VM:
//!
//! | owners | automaton | add + build | index | 2 KB page |
//! |---|---|---|---|---|
//! | 8 | DFA (auto, up to 100 values) | < 0.01 s | 54 KB/owner | 0.45 GiB/s |
//! | 2,000 | contiguous NFA (auto) | 0.09 s | 2.2 KB/owner | 0.25 GiB/s |
//! | 2,000 | DFA (forced) | 0.3 s | 43 KB/owner | 0.31 GiB/s |
//! | 100,000 | contiguous NFA (auto) | 1.3 s + 10.4 s | 1.9 KB/owner | 0.22 GiB/s |
//! | 100,000 | noncontiguous NFA | 1.3 s + 11.3 s | 4.3 KB/owner | 0.12 GiB/s |
//!
//! So the automaton is left to aho-corasick's own choice (a DFA up to 100 values, else the
//! contiguous NFA); a DFA is no faster once it leaves the cache and does not fit beyond a few
//! thousand owners. The prefilter changes nothing measurable (values start with any letter or
//! digit) and stays on. Most build time is the automaton's failure transitions.

mod builder;
mod error;
mod fingerprint;
mod index;
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
pub use sighting::{FieldId, Location, OwnerId, Sighting};
pub use verdict::Verdict;
