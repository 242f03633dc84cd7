//! What the load runner knows about a target, taken from a scenario: its login flows, the pages
//! to read and what each must show, the writes, logout. `demo_scenario()` is the demo portal's.

use crate::population::Field;
use crate::scenario::{LoginFlow, Logout, Page, Phase, Scenario, ScenarioErrors, Write};

/// The demo portal's journey, as a scenario file compiled into the binary.
pub const DEMO_SCENARIO: &str = include_str!("../../scenarios/demo.toml");

/// Parses the embedded demo scenario.
pub fn demo_scenario() -> Result<Scenario, ScenarioErrors> {
    Scenario::parse(DEMO_SCENARIO, "scenarios/demo.toml")
}

/// Everything the load runner needs to drive one target.
#[derive(Clone, Debug)]
pub struct Site {
    pub flows: Vec<LoginFlow>,
    pub pages: Vec<Page>,
    pub writes: Vec<Write>,
    pub logout: Option<Logout>,
}

impl Site {
    pub fn from_scenario(scenario: &Scenario) -> Site {
        Site {
            flows: scenario.login_flows.clone(),
            pages: scenario.pages.clone(),
            writes: scenario.writes.clone(),
            logout: scenario.logout.clone(),
        }
    }

    /// The demo portal's site.
    pub fn demo() -> Site {
        Site::from_scenario(&demo_scenario().expect("the embedded demo scenario is valid"))
    }

    /// The flow a user plays in `phase`: the phase's mix, spread over user numbers.
    pub fn flow_for(&self, phase: &Phase, user: usize) -> usize {
        let name = phase.flow_for(user);
        self.flows.iter().position(|f| f.name == name).unwrap_or(0)
    }
}

/// Oracle field names (as scenarios write them) to population fields; names the population does
/// not know are skipped (the scenario validator already refused them).
pub fn fields(names: &[String]) -> Vec<Field> {
    names.iter().filter_map(|n| n.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_demo_scenario_is_valid_and_complete() {
        let site = Site::demo();
        assert_eq!(site.flows.len(), 2);
        assert!(site.pages.len() >= 2);
        assert_eq!(site.writes.len(), 1);
        assert!(site.logout.is_some());
        assert_eq!(
            fields(&site.pages[0].must_show),
            [Field::NumeroAllocataire, Field::Nir]
        );
    }
}
