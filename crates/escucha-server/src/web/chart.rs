//! Server-drawn SVG charts: they work without JavaScript, in e-mail digests and in print.

use std::fmt::Write;

/// One bar: a label, a value and its 95% interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Category label.
    pub label: String,
    /// Value.
    pub value: f64,
    /// Interval, drawn as a whisker.
    pub ci95: Option<[f64; 2]>,
    /// Number of answers, shown beside the label.
    pub n: u64,
}

/// A horizontal bar chart over a fixed value range (NPS: −100..100) with a zero line,
/// whiskers for the intervals and an accessible title.
pub fn horizontal_bars(title: &str, bars: &[Bar], min: f64, max: f64) -> String {
    let row = 28.0;
    let label_w = 190.0;
    let plot_w = 420.0;
    let value_w = 70.0;
    let height = row * bars.len().max(1) as f64 + 30.0;
    let width = label_w + plot_w + value_w;
    let x = |v: f64| label_w + (v.clamp(min, max) - min) / (max - min) * plot_w;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-labelledby="chart-title" class="chart"><title id="chart-title">{}</title>"#,
        escape(title)
    );
    let zero = x(0.0_f64.clamp(min, max));
    for (i, b) in bars.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let (x0, x1) = if b.value >= 0.0 { (zero, x(b.value)) } else { (x(b.value), zero) };
        let class = if b.value >= 0.0 { "bar pos" } else { "bar neg" };
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" class="label">{} <tspan class="n">(n={})</tspan></text><rect x="{x0:.1}" y="{}" width="{:.1}" height="{}" class="{class}"/>"#,
            label_w - 8.0,
            y + row * 0.6,
            escape(&b.label),
            b.n,
            y + 4.0,
            (x1 - x0).max(0.5),
            row - 10.0
        );
        if let Some([lo, hi]) = b.ci95 {
            let mid = y + row / 2.0 - 1.0;
            let _ = write!(
                svg,
                r#"<line x1="{:.1}" y1="{mid:.1}" x2="{:.1}" y2="{mid:.1}" class="ci"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" class="ci"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" class="ci"/>"#,
                x(lo),
                x(hi),
                x(lo),
                mid - 5.0,
                x(lo),
                mid + 5.0,
                x(hi),
                mid - 5.0,
                x(hi),
                mid + 5.0
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" class="value">{:.1}</text>"#,
            label_w + plot_w + 8.0,
            y + row * 0.6,
            b.value
        );
    }
    let axis_y = 10.0 + row * bars.len() as f64;
    let _ = write!(
        svg,
        r#"<line x1="{zero:.1}" y1="6" x2="{zero:.1}" y2="{axis_y:.1}" class="axis"/><text x="{}" y="{}" class="tick" text-anchor="start">{min}</text><text x="{zero:.1}" y="{}" class="tick" text-anchor="middle">0</text><text x="{}" y="{}" class="tick" text-anchor="end">{max}</text></svg>"#,
        label_w,
        axis_y + 16.0,
        axis_y + 16.0,
        label_w + plot_w,
        axis_y + 16.0
    );
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_placed_on_the_scale_and_text_is_escaped() {
        let svg = horizontal_bars(
            "NPS <by> region",
            &[
                Bar { label: "Norte".into(), value: 50.0, ci95: Some([40.0, 60.0]), n: 10 },
                Bar { label: "S&ur".into(), value: -20.0, ci95: None, n: 5 },
            ],
            -100.0,
            100.0,
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("NPS &lt;by&gt; region"));
        assert!(svg.contains("S&amp;ur"));
        // zero at 190 + 210 = 400; +50 → 400 + 105 = 505: width 105.
        assert!(svg.contains(r#"<rect x="400.0" y="14" width="105.0""#), "{svg}");
        // −20 → 400 − 42 = 358: the bar starts at 358 and is 42 wide.
        assert!(svg.contains(r#"<rect x="358.0" y="42" width="42.0""#), "{svg}");
        assert_eq!(svg.matches("class=\"ci\"").count(), 3);
    }
}
