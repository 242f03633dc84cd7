//! Scenario files: one TOML file describes any portal's login migration — target, population, login
//! flows, pages, writes, phases, load shape, thresholds — and is validated completely into typed values.
//! Pure: reads the scenario (and, in `load`, checks the files it names) but never sends a request.
//!
//! Two stages, as ripgrep parses its flags: serde structs with spans and `deny_unknown_fields`
//! (`raw`), then one validation into the typed model (`model`). Every problem carries the file,
//! line and column, and says what to write instead; all problems found are reported together.
//! The keys are documented, with examples, in `scenarios/README.md`.

mod error;
mod model;
mod population;
mod raw;
mod scope;
mod template;
#[cfg(test)]
mod tests;
mod threshold;
mod validate;
mod warning;

/// The type of [`Scenario::population`], re-exported with the model it belongs to.
pub use crate::population::PopulationSource;
pub use error::{ErrorKind, ScenarioError, ScenarioErrors};
pub use model::{
    ramp_time, Action, ClientAuth, Crowd, CrowdStep, CssPattern, Endpoint, Expiry, ExtractFrom,
    Extraction, HttpVersion, JsonEquals, LoadShape, LoginFlow, LoginStep, Logout, Method,
    OnExpired, Page, PasswordChanges, Pattern, Phase, ProxySetting, RampTooLong, RenderedRequest,
    Replay, ReplayIdentity, Request, Scenario, SessionCarrier, Success, Target, Thresholds,
    Timeouts, Tls, Write, WrittenValue,
};
pub use population::Variable;
pub use scope::{is_loopback, Refusal, Scope};
pub use template::{Body, JsonTemplate, MissingValue, RenderedBody, Template};
pub use threshold::{Comparison, LatencyMetric, LatencyThreshold, METRICS};

use std::path::Path;

/// The only scenario format version this crossleak reads.
pub const VERSION: i64 = 1;

impl Scenario {
    /// Reads and validates the scenario at `path`, and checks the files it names (population
    /// export and its columns, CA file) and the `{{env:NAME}}` variables it uses.
    pub fn load(path: impl AsRef<Path>) -> Result<Scenario, ScenarioErrors> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::File {
            file: file.clone(),
            message: format!("cannot read the scenario file: {e}"),
            help: "check the path (crossleak check scenarios/<name>.toml)".into(),
        })?;
        validate::validate(&text, &file, true)
    }

    /// Validates scenario `text`; `file_name` names it in errors and anchors its relative paths.
    /// Touches no file: the population export and CA file are not checked (see [`Scenario::load`]).
    pub fn parse(text: &str, file_name: &str) -> Result<Scenario, ScenarioErrors> {
        validate::validate(text, file_name, false)
    }
}
