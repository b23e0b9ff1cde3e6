//! The household's week of water use as a server-side SVG: hourly bars over
//! the household's usual band, no script and no chart library.

use std::fmt::Write as _;

use waterwatch_rules::Language;

use super::view::{UsageSeries, local_time};

const WIDTH: f64 = 700.0;
const HEIGHT: f64 = 180.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 22.0;
const LEFT: f64 = 34.0;

/// The chart, with a text alternative for screen readers.
pub fn usage_svg(series: &UsageSeries, lang: Language) -> String {
    let hours = series.hours.len().max(1);
    let peak = series
        .hours
        .iter()
        .flatten()
        .copied()
        .chain(series.band.iter().flatten().map(|(_, high)| *high))
        .fold(0.0f64, f64::max);
    let top = nice_ceiling(peak.max(1.0));
    let plot_h = HEIGHT - TOP - BOTTOM;
    let step = (WIDTH - LEFT) / hours as f64;
    let y = |litres: f64| TOP + plot_h * (1.0 - (litres / top).clamp(0.0, 1.0));
    let x = |hour: usize| LEFT + step * hour as f64;

    let (title, desc) = describe(series, lang);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-labelledby=\"chart-title chart-desc\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"chart-title\">{}</title><desc id=\"chart-desc\">{}</desc>",
        escape(&title),
        escape(&desc)
    );
    // The usual band, hour by hour, repeated each day.
    let mut band = String::new();
    for hour in 0..hours {
        if let Some((low, high)) = series.band[hour % 24] {
            let _ = write!(
                band,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.2}\" height=\"{:.1}\"/>",
                x(hour),
                y(high),
                step,
                (y(low) - y(high)).max(0.5)
            );
        }
    }
    let _ = write!(svg, "<g class=\"band\">{band}</g>");
    let mut bars = String::new();
    for (hour, litres) in series.hours.iter().enumerate() {
        if let Some(litres) = litres.filter(|l| *l > 0.0) {
            let _ = write!(
                bars,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.2}\" height=\"{:.1}\"/>",
                x(hour) + step * 0.1,
                y(litres),
                step * 0.8,
                (HEIGHT - BOTTOM - y(litres)).max(0.5)
            );
        }
    }
    let _ = write!(svg, "<g class=\"use\">{bars}</g>");
    // Unknown hours are hatched so they are not read as "no use".
    let mut unknown = String::new();
    for (hour, litres) in series.hours.iter().enumerate() {
        if litres.is_none() {
            let _ = write!(
                unknown,
                "<rect x=\"{:.1}\" y=\"{TOP}\" width=\"{:.2}\" height=\"{plot_h}\"/>",
                x(hour),
                step
            );
        }
    }
    let _ = write!(svg, "<g class=\"unknown\">{unknown}</g>");
    // Day lines and labels, and the scale.
    let mut grid = String::new();
    for day in 0..hours.div_ceil(24) {
        let at = x(day * 24);
        let label = local_time(
            series.start_ms + day as i64 * 86_400_000,
            series.utc_offset_s,
            "%m-%d",
        );
        let _ = write!(
            grid,
            "<line x1=\"{at:.1}\" y1=\"{TOP}\" x2=\"{at:.1}\" y2=\"{:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{label}</text>",
            HEIGHT - BOTTOM,
            at + 2.0,
            HEIGHT - 6.0
        );
    }
    let _ = write!(
        grid,
        "<line x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{WIDTH}\" y2=\"{:.1}\"/>\
         <text x=\"0\" y=\"{:.1}\">{} L</text><text x=\"0\" y=\"{:.1}\">0</text>",
        HEIGHT - BOTTOM,
        HEIGHT - BOTTOM,
        TOP + 8.0,
        top,
        HEIGHT - BOTTOM
    );
    let _ = write!(svg, "<g class=\"grid\">{grid}</g></svg>");
    svg
}

/// The chart's title and a one-line summary of what it shows.
fn describe(series: &UsageSeries, lang: Language) -> (String, String) {
    let days: Vec<f64> = series
        .hours
        .chunks(24)
        .map(|day| day.iter().flatten().sum())
        .collect();
    let usual: f64 = series
        .band
        .iter()
        .flatten()
        .map(|(low, high)| (low + high) / 2.0)
        .sum();
    let yesterday = days.iter().rev().nth(1).copied().unwrap_or(0.0);
    match lang {
        Language::En => (
            "Hourly water use, last 7 days, over the usual band".into(),
            format!(
                "Yesterday {yesterday:.0} L; a usual day about {usual:.0} L. Hatched hours have no readings."
            ),
        ),
        Language::ZhCn => (
            "近7天每小时用水及通常范围".into(),
            format!("昨天用水{yesterday:.0}升；通常每天约{usual:.0}升。斜线区域为无读数时段。"),
        ),
    }
}

/// 1, 2 or 5 times a power of ten, at or above `value`.
fn nice_ceiling(value: f64) -> f64 {
    let power = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|v| *v >= value)
        .unwrap_or(10.0 * power)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_draws_known_hours_as_bars_and_unknown_ones_hatched() {
        let mut hours = vec![Some(0.0); 48];
        hours[8] = Some(20.0);
        hours[30] = None;
        let mut band = [None; 24];
        band[8] = Some((5.0, 15.0));
        let series = UsageSeries {
            start_ms: 0,
            utc_offset_s: 0,
            hours,
            band,
        };
        let svg = usage_svg(&series, Language::En);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<g class=\"use\"><rect").count(), 1);
        assert_eq!(svg.matches("<g class=\"unknown\"><rect").count(), 1);
        // One band rect per day for hour 8.
        let band_group = svg.split("<g class=\"band\">").nth(1).unwrap();
        assert_eq!(
            band_group
                .split("</g>")
                .next()
                .unwrap()
                .matches("<rect")
                .count(),
            2
        );
        assert!(svg.contains("20 L"), "{svg}");
        assert!(svg.contains("<title id=\"chart-title\">"));
        assert_eq!(nice_ceiling(37.0), 50.0);
        assert_eq!(nice_ceiling(0.3), 0.5);
    }
}
