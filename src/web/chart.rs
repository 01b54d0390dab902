//! Server-rendered SVG charts: no script, no outside service. Each bar carries a
//! `<title>`, which browsers show on hover.

use chrono::NaiveDate;
use maud::{html, Markup};

use crate::store::DayCount;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;

/// Questions per day as stacked bars (answered below, not answered on top), with the
/// share answered as a line on a 0–100 % scale at the right. Days without questions are
/// drawn as empty, so gaps show.
pub fn questions_per_day(days: &[DayCount], from: NaiveDate, to: NaiveDate) -> Markup {
    let all: Vec<DayCount> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|day| {
            days.iter()
                .find(|d| d.day == day)
                .copied()
                .unwrap_or(DayCount {
                    day,
                    answered: 0,
                    abstained: 0,
                })
        })
        .collect();
    let max = all
        .iter()
        .map(DayCount::questions)
        .max()
        .unwrap_or(0)
        .max(1);
    let top = nice_ceiling(max);
    let plot_w = WIDTH - LEFT - 40.0;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let n = all.len().max(1) as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.7).max(1.0);
    let y = |v: f64| TOP + plot_h - v / top as f64 * plot_h;
    let share_points: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(_, d)| d.questions() > 0)
        .map(|(i, d)| {
            let share = d.answered as f64 / d.questions() as f64;
            format!(
                "{:.1},{:.1}",
                LEFT + slot * (i as f64 + 0.5),
                TOP + plot_h - share * plot_h
            )
        })
        .collect();
    let label_every = (all.len() / 8).max(1);
    html! {
        svg.chart role="img" viewBox={"0 0 " (WIDTH) " " (HEIGHT)} xmlns="http://www.w3.org/2000/svg"
            aria-label="Questions per day, answered and not answered, with the share answered" {
            title { "Questions per day" }
            @for step in 0..=4u64 {
                @let value = top * step / 4;
                line.grid x1=(LEFT) x2=(LEFT + plot_w) y1=(y(value as f64)) y2=(y(value as f64)) {}
                text.axis x=(LEFT - 6.0) y=(y(value as f64) + 4.0) text-anchor="end" { (value) }
                text.axis x=(LEFT + plot_w + 6.0) y=(y(value as f64) + 4.0) { (step * 25) "%" }
            }
            @for (i, d) in all.iter().enumerate() {
                @let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
                @let answered_h = d.answered as f64 / top as f64 * plot_h;
                @let abstained_h = d.abstained as f64 / top as f64 * plot_h;
                g.day {
                    title {
                        (d.day.format("%Y-%m-%d")) ": " (d.questions()) " questions, "
                        (d.answered) " answered, " (d.abstained) " not answered"
                    }
                    rect.answered x=(format!("{x:.1}")) y=(format!("{:.1}", TOP + plot_h - answered_h))
                        width=(format!("{bar:.1}")) height=(format!("{answered_h:.1}")) {}
                    rect.abstained x=(format!("{x:.1}")) y=(format!("{:.1}", TOP + plot_h - answered_h - abstained_h))
                        width=(format!("{bar:.1}")) height=(format!("{abstained_h:.1}")) {}
                }
                @if i % label_every == 0 {
                    text.axis x=(format!("{:.1}", x + bar / 2.0)) y=(HEIGHT - 8.0) text-anchor="middle" {
                        (d.day.format("%d.%m"))
                    }
                }
            }
            @if share_points.len() > 1 {
                polyline.share points=(share_points.join(" ")) {}
            }
            @for point in &share_points {
                @let (cx, cy) = point.split_once(',').unwrap_or(("0", "0"));
                circle.share cx=(cx) cy=(cy) r="2.5" {}
            }
        }
    }
}

/// A round number at or above `n` for the top of the scale (1, 2, 4, 6 or 8 × 10^k,
/// divisible by 4 so the four grid steps are whole numbers).
fn nice_ceiling(n: u64) -> u64 {
    let mut power = 1u64;
    while power < u64::MAX / 100 {
        for m in [1, 2, 4, 6, 8] {
            let candidate = m * power;
            if candidate >= n && candidate.is_multiple_of(4) {
                return candidate;
            }
        }
        power *= 10;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_tops_are_round_and_divisible() {
        assert_eq!(nice_ceiling(1), 4);
        assert_eq!(nice_ceiling(5), 8);
        assert_eq!(nice_ceiling(19), 20);
        assert_eq!(nice_ceiling(21), 40);
        assert_eq!(nice_ceiling(150), 200);
    }

    #[test]
    fn a_bar_per_day_with_its_counts() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let svg = questions_per_day(
            &[DayCount {
                day: day(2),
                answered: 3,
                abstained: 1,
            }],
            day(1),
            day(3),
        )
        .into_string();
        assert_eq!(svg.matches("<g class=\"day\">").count(), 3, "{svg}");
        assert!(
            svg.contains("2026-12-02: 4 questions, 3 answered, 1 not answered"),
            "{svg}"
        );
    }
}
