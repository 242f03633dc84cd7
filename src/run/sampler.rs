//! The load's timeline: the counters sampled every second, and where each phase began and ended.
//! Started and stopped by the run, next to the progress line; the reports read the `Timeline`.

use crate::findings::FindingKind;
use crate::load::LoadContext;
use crate::report::{PhaseSpan, Sample, Timeline};
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Recording {
    timeline: Timeline,
    /// The phase under way: its name, start time and start offset.
    current: Option<(String, DateTime<Utc>, f64)>,
}

/// Samples the counters every second while the load runs. Started and stopped by the run, next to
/// the progress line.
pub struct Sampler {
    ctx: Arc<LoadContext>,
    /// The run's start, as an instant: sample offsets are measured from it.
    origin: Instant,
    recording: Arc<Mutex<Recording>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    /// Starts sampling, and the phase `phase`, at once; `run_started` is the run's start.
    pub fn start(ctx: Arc<LoadContext>, run_started: DateTime<Utc>, phase: &str) -> Sampler {
        let since_start = (Utc::now() - run_started).to_std().unwrap_or_default();
        let origin = Instant::now()
            .checked_sub(since_start)
            .unwrap_or_else(Instant::now);
        let recording = Arc::new(Mutex::new(Recording {
            timeline: Timeline::default(),
            current: None,
        }));
        let task = {
            let (ctx, recording) = (Arc::clone(&ctx), Arc::clone(&recording));
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let sample = take(&ctx, origin);
                    if let Ok(mut recording) = recording.lock() {
                        recording.timeline.samples.push(sample);
                    }
                }
            })
        };
        let sampler = Sampler {
            ctx,
            origin,
            recording,
            task,
        };
        sampler.begin_phase(phase);
        sampler
    }

    /// Ends the phase under way, if any, and starts `name`, with a sample at the boundary.
    pub fn begin_phase(&self, name: &str) {
        let sample = take(&self.ctx, self.origin);
        let now = Utc::now();
        if let Ok(mut recording) = self.recording.lock() {
            let at = sample.at_secs;
            recording.timeline.samples.push(sample);
            close_phase(&mut recording, now, at);
            recording.current = Some((name.to_owned(), now, at));
        }
    }

    /// Stops sampling, ends the phase under way and returns the timeline.
    pub fn stop(self) -> Timeline {
        self.task.abort();
        let sample = take(&self.ctx, self.origin);
        let now = Utc::now();
        let mut recording = match self.recording.lock() {
            Ok(recording) => recording,
            Err(poisoned) => poisoned.into_inner(),
        };
        let at = sample.at_secs;
        recording.timeline.samples.push(sample);
        close_phase(&mut recording, now, at);
        recording
            .timeline
            .samples
            .sort_by(|a, b| a.at_secs.total_cmp(&b.at_secs));
        std::mem::take(&mut recording.timeline)
    }
}

fn close_phase(recording: &mut Recording, now: DateTime<Utc>, at: f64) {
    if let Some((name, started_at, start_secs)) = recording.current.take() {
        recording.timeline.phases.push(PhaseSpan {
            name,
            started_at,
            finished_at: now,
            start_secs,
            end_secs: at,
        });
    }
}

fn take(ctx: &LoadContext, origin: Instant) -> Sample {
    let snapshot = ctx.counters.snapshot();
    Sample {
        at_secs: origin.elapsed().as_secs_f64(),
        requests: snapshot.requests,
        errors: snapshot.errors,
        checked: snapshot.checked_responses,
        findings: FindingKind::ALL
            .iter()
            .map(|k| ctx.sink.count(*k))
            .collect(),
    }
}
