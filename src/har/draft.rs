//! The scenario the inference found, before it is written: every value already templated, with
//! the entries each part came from and the notes for the reader. Plain data.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    /// The recording's file name, for the header.
    pub recording: String,
    pub entries: usize,
    pub base_url: String,
    /// The host of a non-loopback `base_url`, which the file must then allow.
    pub remote_host: Option<String>,
    pub population: PopulationDraft,
    /// 1-based line of the recorded user in the export.
    pub user_line: u64,
    pub login: LoginDraft,
    pub pages: Vec<PageDraft>,
    pub writes: Vec<WriteDraft>,
    /// Writes that could not be made runnable, as comment lines.
    pub suggestions: Vec<String>,
    pub logout: Option<RequestDraft>,
    /// `entry N: METHOD host/path — why`.
    pub dropped: Vec<String>,
    /// What the reader should check.
    pub review: Vec<String>,
    /// Users of the default phase.
    pub users: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PopulationDraft {
    /// As the scenario writes it (relative to the scenario's folder).
    pub file: String,
    /// `crossleak-jsonl`, `csv`…
    pub format: &'static str,
    /// `None` for crossleak's own files.
    pub columns: Option<ColumnsDraft>,
}

/// `(variable, column)` pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnsDraft {
    pub identifiers: Vec<(String, String)>,
    pub password: String,
    pub watch: Vec<(String, String)>,
    pub household: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RequestDraft {
    pub method: String,
    /// Path and query, templated.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: BodyDraft,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BodyDraft {
    None,
    Form(Vec<(String, String)>),
    Json(Value),
}

#[derive(Clone, Debug, PartialEq)]
pub struct StepDraft {
    pub request: RequestDraft,
    pub extract: Vec<ExtractDraft>,
    /// The recording's entries this step stands for (a redirect chain is one step).
    pub entries: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtractDraft {
    Css {
        name: String,
        css: String,
        attribute: Option<String>,
    },
    Pointer {
        name: String,
        pointer: String,
    },
    Header {
        name: String,
        header: String,
    },
    Regex {
        name: String,
        regex: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionDraft {
    Cookie(String),
    Bearer {
        pointer: String,
        header: String,
        prefix: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoginDraft {
    pub name: String,
    pub steps: Vec<StepDraft>,
    pub session: SessionDraft,
    pub status: Option<u16>,
    pub landing_path: Option<String>,
    pub must_show: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PageDraft {
    pub path: String,
    pub must_show: Vec<String>,
    /// `(pointer, variable)`.
    pub json_equals: Vec<(String, String)>,
    pub entries: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WriteDraft {
    pub request: RequestDraft,
    pub values: Vec<String>,
    pub then_read: Vec<String>,
    pub entries: Vec<usize>,
}
