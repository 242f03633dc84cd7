//! Small values many sections share: shares from 0 to 1 and positive durations, each refused at
//! its line with an example.

use super::Validator;
use crate::scenario::error::ErrorKind;
use crate::scenario::raw::*;
use std::time::Duration;
use toml::Spanned;

impl Validator<'_> {
    /// A share from 0 to 1; `default` when absent.
    pub(crate) fn share(
        &mut self,
        raw: Option<&Spanned<f64>>,
        key: &str,
        default: f64,
    ) -> Option<f64> {
        let Some(raw) = raw else { return Some(default) };
        let value = *raw.get_ref();
        if !(0.0..=1.0).contains(&value) {
            self.at(
                raw.span(),
                ErrorKind::InvalidValue,
                format!("{key} is {value}, which is not a share"),
                format!("use a number from 0 to 1, as in {key} = 0.5"),
            );
            return None;
        }
        Some(value)
    }

    /// A positive duration such as `"10s"`; `default` when absent.
    pub(crate) fn duration_or(
        &mut self,
        raw: Option<&Text>,
        key: &str,
        default: Duration,
    ) -> Option<Duration> {
        match raw {
            None => Some(default),
            Some(text) => self.duration(text, key),
        }
    }

    pub(crate) fn duration(&mut self, raw: &Text, key: &str) -> Option<Duration> {
        match humantime::parse_duration(raw.get_ref().trim()) {
            Ok(d) if d.is_zero() => {
                self.at(
                    raw.span(),
                    ErrorKind::InvalidValue,
                    format!("{key} is zero"),
                    format!("give a duration above zero, as in {key} = \"10s\""),
                );
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                self.at(
                    raw.span(),
                    ErrorKind::InvalidValue,
                    format!("{key} {:?} is not a duration", raw.get_ref()),
                    format!("write a number with a unit (ms, s, m), as in {key} = \"10s\""),
                );
                None
            }
        }
    }
}
