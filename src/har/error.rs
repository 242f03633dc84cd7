//! What can go wrong turning a recording into a scenario: an unreadable HAR entry, a population
//! export that cannot be read, or a recording whose login, user or session cannot be found.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum HarError {
    #[error("{file}: cannot read the recording: {message}; export it again from the browser's network panel (\"Save all as HAR\")")]
    Unreadable { file: String, message: String },
    #[error("{file}:entry {entry}: {message}; {help}")]
    Entry {
        file: String,
        /// 1-based, in the file's order.
        entry: usize,
        message: String,
        help: String,
    },
    #[error("{file}: {message}; {help}")]
    Population {
        file: String,
        message: String,
        help: String,
    },
    #[error("{file}: {message}; {help}")]
    Inference {
        file: String,
        message: String,
        help: String,
    },
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
}

impl HarError {
    /// A recording whose login, user or session cannot be found: what is missing, what to do.
    pub fn inference(file: &str, message: String, help: &str) -> HarError {
        HarError::Inference {
            file: file.to_owned(),
            message,
            help: help.to_owned(),
        }
    }
}
