//! Why a scenario file was refused: the file, the line and column, what is wrong, and what to write
//! instead. Also the small helpers that find a line from a byte offset and the closest valid name.

use std::fmt;

/// What kind of mistake an error reports; tests and tools match on it, people read the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The file is not TOML.
    Syntax,
    /// A key this section does not have (a typo, or a key from another section).
    UnknownKey,
    /// A key the section needs is absent.
    MissingKey,
    /// A value of the wrong TOML type (a string where a number goes, …).
    WrongType,
    /// A value of the right type that is not acceptable (a negative share, a malformed path, …).
    InvalidValue,
    /// `version` is absent or not 1.
    Version,
    /// A `{{variable}}` that the population (or the step) does not provide.
    UnknownVariable,
    /// A login flow name that no `[[login_flow]]` has.
    UnknownLoginFlow,
    /// A page path that no `[[page]]` has.
    UnknownPage,
    /// A phase with no login flow, no users or no duration.
    EmptyPhase,
    /// A portal fault name the embedded portal does not have.
    UnknownFault,
    /// A non-loopback host without the explicit opt-in.
    RemoteTarget,
    /// A threshold naming a metric crossleak does not measure.
    UnknownMetric,
    /// Two keys that exclude each other, or two items with one name.
    Conflict,
    /// A file the scenario names (population export, CA file) cannot be used.
    File,
}

/// One problem in a scenario file (or in a file it names), located and with a fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// A problem with a whole file (unreadable, empty), with no line to point at.
    #[error("{file}: {message}; {help}")]
    File {
        file: String,
        message: String,
        help: String,
    },
    /// A located problem: `file:line:column: message; help`.
    #[error("{file}:{line}:{column}: {message}; {help}")]
    Invalid {
        file: String,
        /// 1-based.
        line: usize,
        /// 1-based, in characters.
        column: usize,
        kind: ErrorKind,
        message: String,
        help: String,
    },
}

impl ScenarioError {
    pub fn file(&self) -> &str {
        match self {
            Self::File { file, .. } | Self::Invalid { file, .. } => file,
        }
    }

    /// The 1-based line, when the error has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::File { .. } => None,
            Self::Invalid { line, .. } => Some(*line),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::File { .. } => ErrorKind::File,
            Self::Invalid { kind, .. } => *kind,
        }
    }

    pub fn help(&self) -> &str {
        match self {
            Self::File { help, .. } | Self::Invalid { help, .. } => help,
        }
    }

    fn position(&self) -> (usize, usize) {
        match self {
            Self::File { .. } => (0, 0),
            Self::Invalid { line, column, .. } => (*line, *column),
        }
    }
}

/// Every problem found in one scenario, in file order. Never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioErrors {
    pub errors: Vec<ScenarioError>,
}

impl ScenarioErrors {
    pub(crate) fn new(mut errors: Vec<ScenarioError>) -> Self {
        errors.sort_by_key(|e| (e.file().to_owned(), e.position()));
        errors.dedup();
        ScenarioErrors { errors }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ScenarioError> {
        self.errors.iter()
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

impl From<ScenarioError> for ScenarioErrors {
    fn from(error: ScenarioError) -> Self {
        ScenarioErrors::new(vec![error])
    }
}

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.errors.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        if self.errors.len() > 1 {
            write!(
                f,
                "\n{} problems in the scenario; nothing was sent",
                self.errors.len()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioErrors {}

/// Turns byte offsets of one text into 1-based lines and character columns.
pub(crate) struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Lines { text, starts }
    }

    pub(crate) fn locate(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&start| start <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, column)
    }
}

/// The valid name closest to `given` by edit distance, if close enough to be a likely typo.
pub(crate) fn closest<'a>(
    given: &str,
    valid: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let given_lower = given.to_ascii_lowercase();
    valid
        .into_iter()
        .map(|name| {
            (
                edit_distance(&given_lower, &name.to_ascii_lowercase()),
                name,
            )
        })
        .filter(|(distance, name)| {
            *distance <= 2.max(name.chars().count() / 3) && *distance < given.chars().count().max(1)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Edit distance over characters where swapping two neighbours counts as one edit (optimal
/// string alignment), so `uesrs` is one edit from `users`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// `"a", "b" or "c"`.
pub(crate) fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.into_iter().map(|n| format!("{n:?}")).collect();
    match names.len() {
        0 => String::from("(none)"),
        1 => names[0].clone(),
        n => format!("{} or {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

/// `did you mean "x"?`, or the list of valid names when none is close.
pub(crate) fn suggestion<'a>(
    given: &str,
    valid: impl IntoIterator<Item = &'a str> + Clone,
) -> String {
    match closest(given, valid.clone()) {
        Some(name) => format!("did you mean {name:?}?"),
        None => format!("use one of {}", quoted_list(valid)),
    }
}

/// `did you mean "x"? (<noun>: "a", "b" or "c")`, or `use one of "a", "b" or "c"` when no name is close.
pub(crate) fn suggestion_listing<'a>(
    given: &str,
    valid: impl IntoIterator<Item = &'a str> + Clone,
    noun: &str,
) -> String {
    match closest(given, valid.clone()) {
        Some(name) => format!("did you mean {name:?}? ({noun}: {})", quoted_list(valid)),
        None => format!("use one of {}", quoted_list(valid)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let lines = Lines::new("a = 1\n\né = \"x\"\n");
        assert_eq!(lines.locate(0), (1, 1));
        assert_eq!(lines.locate(4), (1, 5));
        assert_eq!(lines.locate(6), (2, 1));
        assert_eq!(lines.locate(7), (3, 1));
        // "é" is two bytes, one column.
        assert_eq!(lines.locate(11), (3, 4));
        assert_eq!(lines.locate(1000), (4, 1));
    }

    #[test]
    fn closest_name_is_found_for_typos_only() {
        let valid = ["users", "increase_rate", "think_time"];
        assert_eq!(closest("uesrs", valid), Some("users"));
        assert_eq!(closest("increase-rate", valid), Some("increase_rate"));
        assert_eq!(closest("Users", valid), Some("users"));
        assert_eq!(closest("banana", valid), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("stpe", "step"), 1);
        assert_eq!(closest("stpe", ["size", "step"]), Some("step"));
    }

    #[test]
    fn errors_display_file_line_column_message_and_help() {
        let error = ScenarioError::Invalid {
            file: "scenarios/x.toml".into(),
            line: 12,
            column: 5,
            kind: ErrorKind::UnknownKey,
            message: "unknown key \"uesrs\" in [load]".into(),
            help: "did you mean \"users\"?".into(),
        };
        assert_eq!(
            error.to_string(),
            "scenarios/x.toml:12:5: unknown key \"uesrs\" in [load]; did you mean \"users\"?"
        );
    }
}
