//! One SVG line chart of step series over the run's seconds, the phases drawn as bands behind it;
//! drawn here, so it shows where scripts are blocked. Step by step: frame, bands, grid, axis, lines.

use crate::report::{escape, PhaseSpan};
use std::fmt::Write;

/// One line of a chart.
pub(super) struct Series {
    pub key: &'static str,
    pub label: &'static str,
    pub colour: &'static str,
    /// (start, end, value) per interval.
    pub steps: Vec<(f64, f64, f64)>,
}

/// The SVG's size, in its own units (it scales to the page's width).
const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 230.0;
/// Room around the plot: value labels on the left, the legend and phase names on top, the
/// seconds below.
const LEFT: f64 = 60.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 30.0;
/// The plot itself, inside those margins.
const PLOT_WIDTH: f64 = WIDTH - LEFT - RIGHT;
const PLOT_HEIGHT: f64 = HEIGHT - TOP - BOTTOM;

/// Where values land: the plot's scales, `0..x_max` seconds across and `0..y_max` up.
struct Scale {
    x_max: f64,
    y_max: f64,
}

impl Scale {
    /// Up to the largest value of any series, rounded up to a nice number (at least 1).
    fn of(series: &[Series], x_max: f64) -> Scale {
        let y_top = series
            .iter()
            .flat_map(|s| s.steps.iter().map(|(_, _, v)| *v))
            .fold(0.0_f64, f64::max);
        Scale {
            x_max,
            y_max: nice(y_top.max(1.0)),
        }
    }

    fn x(&self, t: f64) -> f64 {
        LEFT + (t / self.x_max).clamp(0.0, 1.0) * PLOT_WIDTH
    }

    fn y(&self, v: f64) -> f64 {
        TOP + PLOT_HEIGHT - (v / self.y_max).clamp(0.0, 1.0) * PLOT_HEIGHT
    }
}

/// One SVG line chart of step series over `0..x_max` seconds, with the phases as bands.
pub(super) fn chart(
    id: &str,
    title: &str,
    series: &[Series],
    x_max: f64,
    phases: &[PhaseSpan],
) -> String {
    let scale = Scale::of(series, x_max);
    let points = series.first().map_or(0, |s| s.steps.len());
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<figure class=\"chart\"><svg id=\"{id}\" class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{t}\" data-points=\"{points}\" data-x-max=\"{x_max}\" data-left=\"{LEFT}\" data-plot-width=\"{PLOT_WIDTH}\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"system-ui, sans-serif\" font-size=\"11\">\n<title>{t}</title>",
        t = escape(title),
    );
    phase_bands(&mut svg, &scale, phases);
    value_grid(&mut svg, &scale);
    time_axis(&mut svg, &scale);
    lines(&mut svg, &scale, series);
    if points == 0 {
        let _ = writeln!(
            svg,
            "<text x=\"{cx}\" y=\"{cy}\" text-anchor=\"middle\" fill=\"#64748b\" font-size=\"14\">no load ran: nothing to chart</text>",
            cx = LEFT + PLOT_WIDTH / 2.0,
            cy = TOP + PLOT_HEIGHT / 2.0
        );
    }
    let _ = writeln!(
        svg,
        "<line class=\"guide\" x1=\"0\" y1=\"{TOP}\" x2=\"0\" y2=\"{y1}\" stroke=\"#0f172a\" stroke-width=\"1\" visibility=\"hidden\"/>\n</svg><figcaption>{}</figcaption></figure>",
        escape(title),
        y1 = TOP + PLOT_HEIGHT,
    );
    svg
}

/// Each phase as a shaded band between two dashed lines, its name above.
fn phase_bands(svg: &mut String, scale: &Scale, phases: &[PhaseSpan]) {
    for (i, phase) in phases.iter().enumerate() {
        let (x0, x1) = (scale.x(phase.start_secs), scale.x(phase.end_secs));
        let _ = writeln!(
            svg,
            "<rect class=\"phase\" data-phase=\"{name}\" x=\"{x0:.1}\" y=\"{TOP}\" width=\"{w:.1}\" height=\"{PLOT_HEIGHT}\" fill=\"{fill}\"/><line x1=\"{x0:.1}\" y1=\"{y0}\" x2=\"{x0:.1}\" y2=\"{y1}\" stroke=\"#64748b\" stroke-dasharray=\"4 3\"/><line x1=\"{x1:.1}\" y1=\"{y0}\" x2=\"{x1:.1}\" y2=\"{y1}\" stroke=\"#64748b\" stroke-dasharray=\"4 3\"/><text x=\"{tx:.1}\" y=\"{ty}\" fill=\"#475569\">phase {name}</text>",
            name = escape(&phase.name),
            w = (x1 - x0).max(0.5),
            fill = if i % 2 == 0 { "#eef2ff" } else { "#f1f5f9" },
            y0 = TOP - 6.0,
            y1 = TOP + PLOT_HEIGHT,
            tx = x0 + 4.0,
            ty = TOP - 9.0,
        );
    }
}

/// Five horizontal lines from 0 to the top value, each labelled on the left.
fn value_grid(svg: &mut String, scale: &Scale) {
    for i in 0..=4 {
        let value = scale.y_max * f64::from(i) / 4.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{x2}\" y2=\"{py:.1}\" stroke=\"#e2e8f0\"/><text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\" fill=\"#475569\">{label}</text>",
            py = scale.y(value),
            x2 = LEFT + PLOT_WIDTH,
            tx = LEFT - 6.0,
            ty = scale.y(value) + 4.0,
            label = number(value),
        );
    }
}

/// The seconds under the plot, at a nice step, and the line they stand on.
fn time_axis(svg: &mut String, scale: &Scale) {
    let step = nice(scale.x_max / 8.0);
    let mut tick = 0.0;
    while tick <= scale.x_max + 1e-9 {
        let _ = writeln!(
            svg,
            "<text x=\"{tx:.1}\" y=\"{ty}\" text-anchor=\"middle\" fill=\"#475569\">{label}s</text>",
            tx = scale.x(tick),
            ty = TOP + PLOT_HEIGHT + 16.0,
            label = number(tick),
        );
        tick += step;
    }
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{y0}\" x2=\"{x2}\" y2=\"{y0}\" stroke=\"#94a3b8\"/>",
        y0 = TOP + PLOT_HEIGHT,
        x2 = LEFT + PLOT_WIDTH
    );
}

/// Each series as a stepped polyline, with its key in the legend at the top right.
fn lines(svg: &mut String, scale: &Scale, series: &[Series]) {
    for (i, s) in series.iter().enumerate() {
        let mut points = String::new();
        for (from, to, value) in &s.steps {
            let _ = write!(
                points,
                "{:.1},{:.1} {:.1},{:.1} ",
                scale.x(*from),
                scale.y(*value),
                scale.x(*to),
                scale.y(*value)
            );
        }
        let _ = writeln!(
            svg,
            "<polyline class=\"series\" data-series=\"{key}\" data-points=\"{n}\" points=\"{points}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.8\" stroke-linejoin=\"round\"/><rect x=\"{lx:.1}\" y=\"8\" width=\"12\" height=\"3\" fill=\"{colour}\"/><text x=\"{tx:.1}\" y=\"13\" fill=\"#1e293b\">{label}</text>",
            key = s.key,
            n = s.steps.len(),
            points = points.trim_end(),
            colour = s.colour,
            lx = LEFT + PLOT_WIDTH - 230.0 + 115.0 * i as f64,
            tx = LEFT + PLOT_WIDTH - 214.0 + 115.0 * i as f64,
            label = escape(s.label),
        );
    }
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `value`.
pub(super) fn nice(value: f64) -> f64 {
    if value <= 0.0 || !value.is_finite() {
        return 1.0;
    }
    let exponent = 10f64.powf(value.log10().floor());
    let fraction = value / exponent;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * exponent
}

/// A value as an axis label: whole numbers without decimals, others with two.
fn number(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{}", value.round() as i64)
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_rounds_up_to_one_two_five() {
        assert_eq!(nice(0.3), 0.5);
        assert_eq!(nice(7.0), 10.0);
        assert_eq!(nice(120.0), 200.0);
        assert_eq!(nice(0.0), 1.0);
    }
}
