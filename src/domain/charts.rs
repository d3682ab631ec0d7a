//! Charts as server-side SVG markup: grouped columns (a series per colour over labelled
//! periods) and horizontal bars (one labelled value per row). Every text is XML-escaped here,
//! so the markup can be placed in a page as is. Each chart is an image with a `<title>` and a
//! `<desc>` for assistive technology; pages show the same figures as a table beside it.
//! Colours come from the stylesheet (`.chart .s0`, `.s1`, …), so dark mode and CSP hold.

use std::fmt::Write;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One named row of values, drawn in one colour.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: &'a [i64],
}

/// One labelled value of a bar chart; `shown` is how the value reads ("$1,200", "14").
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub shown: String,
}

fn open(out: &mut String, id: &str, title: &str, desc: &str, width: u32, height: u32) {
    let id = escape(id);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" aria-labelledby="{id}-t {id}-d" preserveAspectRatio="xMidYMid meet"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        escape(title),
        escape(desc)
    );
}

/// A label cut to `max` characters, with an ellipsis when cut.
fn clip(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        return label.to_string();
    }
    let mut s: String = label.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

const COL_WIDTH: u32 = 640;
const COL_HEIGHT: u32 = 190;
const PLOT_LEFT: f64 = 34.0;
const PLOT_RIGHT: f64 = 636.0;
const PLOT_TOP: f64 = 12.0;
const PLOT_BOTTOM: f64 = 160.0;

/// Grouped columns: one group per label, one column per series. Every `label_every`-th label
/// is written under the axis; each column carries its exact figure as a tooltip.
pub fn columns(
    id: &str,
    title: &str,
    labels: &[String],
    series: &[Series<'_>],
    label_every: usize,
) -> String {
    let total: i64 = series.iter().flat_map(|s| s.values.iter()).sum();
    let desc = series
        .iter()
        .map(|s| format!("{} in all: {}", s.name, s.values.iter().sum::<i64>()))
        .collect::<Vec<_>>()
        .join("; ");
    let mut out = String::new();
    open(&mut out, id, title, &desc, COL_WIDTH, COL_HEIGHT);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let _ = write!(
        out,
        r#"<g class="axis"><line x1="{PLOT_LEFT}" y1="{PLOT_BOTTOM}" x2="{PLOT_RIGHT}" y2="{PLOT_BOTTOM}"/><text x="{}" y="{}" text-anchor="end">{max}</text><text x="{}" y="{PLOT_BOTTOM}" text-anchor="end">0</text></g>"#,
        PLOT_LEFT - 4.0,
        PLOT_TOP + 8.0,
        PLOT_LEFT - 4.0,
    );
    if total == 0 {
        let _ = write!(
            out,
            r#"<text class="empty" x="{}" y="{}" text-anchor="middle">Nothing yet</text>"#,
            (PLOT_LEFT + PLOT_RIGHT) / 2.0,
            (PLOT_TOP + PLOT_BOTTOM) / 2.0
        );
    }
    let groups = labels.len().max(1) as f64;
    let group_w = (PLOT_RIGHT - PLOT_LEFT) / groups;
    let bar_w = group_w * 0.8 / series.len().max(1) as f64;
    for (g, label) in labels.iter().enumerate() {
        let x0 = PLOT_LEFT + g as f64 * group_w + group_w * 0.1;
        for (k, s) in series.iter().enumerate() {
            let v = s.values.get(g).copied().unwrap_or(0).max(0);
            let h = (PLOT_BOTTOM - PLOT_TOP) * v as f64 / max as f64;
            let _ = write!(
                out,
                r#"<rect class="s{k}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}: {v} {}</title></rect>"#,
                x0 + k as f64 * bar_w,
                PLOT_BOTTOM - h,
                bar_w,
                h,
                escape(label),
                escape(s.name)
            );
        }
        if label_every > 0 && g % label_every == 0 {
            let _ = write!(
                out,
                r#"<text class="label" x="{:.1}" y="{}">{}</text>"#,
                x0,
                PLOT_BOTTOM + 16.0,
                escape(&clip(label, 10))
            );
        }
    }
    let mut x = PLOT_LEFT;
    for (k, s) in series.iter().enumerate() {
        let _ = write!(
            out,
            r#"<g class="legend"><rect class="s{k}" x="{x:.1}" y="{}" width="10" height="10"/><text x="{:.1}" y="{}">{}</text></g>"#,
            PLOT_BOTTOM + 20.0,
            x + 14.0,
            PLOT_BOTTOM + 29.0,
            escape(s.name)
        );
        x += 24.0 + 8.0 * s.name.chars().count() as f64;
    }
    out.push_str("</svg>");
    out
}

const BAR_ROW: u32 = 26;
const BAR_LEFT: f64 = 150.0;
const BAR_MAX: f64 = 360.0;

/// Horizontal bars, one row per entry, each with its label and its figure.
pub fn bars(id: &str, title: &str, rows: &[Bar]) -> String {
    let desc = if rows.is_empty() {
        "Nothing yet".to_string()
    } else {
        rows.iter()
            .map(|r| format!("{}: {}", r.label, r.shown))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let height = BAR_ROW * (rows.len().max(1) as u32) + 4;
    let mut out = String::new();
    open(&mut out, id, title, &desc, 600, height);
    if rows.is_empty() {
        out.push_str(
            r#"<text class="empty" x="300" y="18" text-anchor="middle">Nothing yet</text>"#,
        );
    }
    let max = rows.iter().map(|r| r.value).max().unwrap_or(0).max(1);
    for (i, r) in rows.iter().enumerate() {
        let y = (i as u32 * BAR_ROW) as f64;
        let w = (BAR_MAX * r.value.max(0) as f64 / max as f64).max(1.0);
        let _ = write!(
            out,
            r#"<g><text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="s{}" x="{BAR_LEFT}" y="{:.1}" width="{w:.1}" height="18"><title>{}: {}</title></rect><text class="value" x="{:.1}" y="{:.1}">{}</text></g>"#,
            BAR_LEFT - 8.0,
            y + 16.0,
            escape(&clip(&r.label, 20)),
            i % 4,
            y + 3.0,
            escape(&r.label),
            escape(&r.shown),
            BAR_LEFT + w + 6.0,
            y + 16.0,
            escape(&r.shown)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>{{ 7*7 }}";

    #[test]
    fn columns_scale_to_the_largest_value_and_escape_labels() {
        let labels = vec!["Jun 1".to_string(), HOSTILE.to_string()];
        let svg = columns(
            "calls",
            "Calls & bookings",
            &labels,
            &[
                Series {
                    name: "Calls",
                    values: &[4, 8],
                },
                Series {
                    name: "<b>Booked</b>",
                    values: &[1, 2],
                },
            ],
            1,
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title id=\"calls-t\">Calls &amp; bookings</title>"));
        assert!(svg.contains("Calls in all: 12; &lt;b&gt;Booked&lt;/b&gt; in all: 3"));
        // The tallest column fills the plot; the one half its size half of it.
        assert!(
            svg.contains(r#"y="12.0" width="120.4" height="148.0""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"y="86.0" width="120.4" height="74.0""#),
            "{svg}"
        );
        assert!(!svg.contains("<script") && !svg.contains("<img") && !svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img"));
        assert_eq!(svg.matches("<rect class=\"s0\"").count(), 3); // two columns + legend
    }

    #[test]
    fn an_empty_chart_says_so() {
        let svg = columns(
            "c",
            "Calls",
            &["a".into()],
            &[Series {
                name: "Calls",
                values: &[0],
            }],
            1,
        );
        assert!(svg.contains("Nothing yet"));
        assert!(bars("b", "Leads", &[]).contains("Nothing yet"));
    }

    #[test]
    fn bars_are_proportional_and_escaped() {
        let svg = bars(
            "value",
            "Pipeline",
            &[
                Bar {
                    label: HOSTILE.into(),
                    value: 400,
                    shown: "$4".into(),
                },
                Bar {
                    label: "Peel".into(),
                    value: 100,
                    shown: "$1".into(),
                },
            ],
        );
        assert!(
            svg.contains(r#"width="360.0""#) && svg.contains(r#"width="90.0""#),
            "{svg}"
        );
        assert!(!svg.contains("<script") && !svg.contains("<img"));
        assert!(svg.contains("Pipeline</title>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;{{ 7*7 }}: $4"));
    }
}
