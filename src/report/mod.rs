//! Reports: views over one run's findings and figures — `summary.json` for machines, a table for people.
//! Reads what the run collected; never sends a request.

mod console;
mod summary;

pub use console::{print_summary, Progress};
pub use summary::{run_id, RunFacts, Summary, SUMMARY_SCHEMA_VERSION};
