//! `crossleak population`: a generated population streamed to a file in one [`OutputFormat`],
//! a batch at a time, so ten million beneficiaries take no more memory than one batch.

use super::io::{OutputFormat, PopulationWriter};
use super::{GenerateOptions, Population, PopulationError};
use std::io::{IsTerminal, Write};

/// Beneficiaries generated, then written, per batch.
pub const EXPORT_BATCH: usize = 50_000;

/// Generates the population of `options` and writes it to `out` as `format`, calling
/// `progress(written, total)` after each batch; returns how many were written.
pub fn export<W: Write>(
    options: &GenerateOptions,
    format: OutputFormat,
    out: W,
    progress: impl FnMut(usize, usize),
) -> Result<usize, PopulationError> {
    export_in_batches(options, format, out, EXPORT_BATCH, progress)
}

fn export_in_batches<W: Write>(
    options: &GenerateOptions,
    format: OutputFormat,
    out: W,
    batch: usize,
    mut progress: impl FnMut(usize, usize),
) -> Result<usize, PopulationError> {
    // Before the first byte: a refused size leaves no half-started file behind.
    options.validate()?;
    let mut writer = PopulationWriter::new(format, out)?;
    let mut written = 0;
    Population::generate_in_batches(options, batch, |beneficiaries| {
        for b in &beneficiaries {
            writer.write(b)?;
        }
        written += beneficiaries.len();
        progress(written, options.size);
        Ok::<(), PopulationError>(())
    })?;
    writer.finish()?;
    Ok(written)
}

/// The `written/total` line on stderr, redrawn after each batch; silent when stderr is not a
/// terminal or when asked to be quiet.
pub struct ProgressLine {
    shown: bool,
}

impl ProgressLine {
    pub fn new(quiet: bool) -> ProgressLine {
        ProgressLine {
            shown: !quiet && std::io::stderr().is_terminal(),
        }
    }

    pub fn update(&mut self, written: usize, total: usize) {
        if self.shown {
            eprint!(
                "\r\x1b[2K{written}/{total} beneficiaries written ({:.0} %)",
                written as f64 * 100.0 / total.max(1) as f64
            );
            let _ = std::io::stderr().flush();
        }
    }

    /// Clears the line.
    pub fn finish(self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(size: usize) -> GenerateOptions {
        GenerateOptions {
            size,
            seed: 7,
            ..GenerateOptions::default()
        }
    }

    /// Writes `size` beneficiaries in batches of 64, so that several batches are joined.
    fn exported(size: usize, format: OutputFormat) -> (Vec<u8>, Vec<(usize, usize)>) {
        let mut out = Vec::new();
        let mut calls = Vec::new();
        let written = export_in_batches(&options(size), format, &mut out, 64, |w, t| {
            calls.push((w, t))
        })
        .unwrap();
        assert_eq!(written, size);
        (out, calls)
    }

    #[test]
    fn a_streamed_csv_reads_back_as_the_generated_population() {
        let (out, calls) = exported(150, OutputFormat::Csv);
        assert_eq!(calls, [(64, 150), (128, 150), (150, 150)]);
        let expected = Population::generate(&options(150)).unwrap();
        assert_eq!(Population::read_csv(&out[..]).unwrap(), expected);
    }

    #[test]
    fn a_streamed_jsonl_reads_back_as_the_generated_population() {
        let (out, _) = exported(150, OutputFormat::Jsonl);
        let expected = Population::generate(&options(150)).unwrap();
        assert_eq!(Population::read_jsonl(&out[..]).unwrap(), expected);
        let mut whole = Vec::new();
        expected.write_jsonl(&mut whole).unwrap();
        assert_eq!(out, whole, "streamed and whole outputs are the same bytes");
    }

    #[test]
    fn batches_generate_the_same_beneficiaries_as_one_pass() {
        let mut batched = Vec::new();
        Population::generate_in_batches(&options(101), 10, |batch| {
            assert!(batch.len() <= 10);
            batched.extend(batch);
            Ok::<(), PopulationError>(())
        })
        .unwrap();
        assert_eq!(
            batched,
            Population::generate(&options(101)).unwrap().beneficiaries
        );
    }

    #[test]
    fn a_size_out_of_range_is_refused_before_anything_is_written() {
        let mut out = Vec::new();
        let error = export(&options(0), OutputFormat::Sql, &mut out, |_, _| {}).unwrap_err();
        assert!(
            matches!(error, PopulationError::Size { size: 0 }),
            "{error}"
        );
        assert!(out.is_empty());
    }
}
