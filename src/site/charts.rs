//! Charts drawn at build time as SVG with plotters (its SVG backend only): no JavaScript, no
//! scripts inside, and every chart comes with a text summary and its data table in the page
//! (the templates print both), so screen readers and text browsers get the same numbers.

use plotters::prelude::*;
use serde_json::{Value, json};

/// One line of a chart: a name and a value per label (`None` where unknown).
pub struct Series {
    /// What the line is.
    pub name: String,
    /// Values, one per label.
    pub values: Vec<Option<f64>>,
}

/// Colours that stay apart for common colour blindness (Okabe–Ito).
const PALETTE: &[RGBColor] = &[
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A line chart as an SVG document that scales to its container. `labels` are the x values
/// (months); `title` becomes the SVG's accessible name.
pub fn line_chart(title: &str, labels: &[String], series: &[Series], y_desc: &str) -> String {
    let (w, h) = (720u32, 320u32);
    let mut svg = String::new();
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0f64, |a, b| a.max(*b));
    let top = if max <= 0.0 { 1.0 } else { max * 1.1 };
    let n = labels.len().max(1);
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(64)
                .build_cartesian_2d(0f64..(n as f64 - 1.0).max(1.0), 0f64..top)?;
            let step = n.div_ceil(8).max(1);
            chart
                .configure_mesh()
                // no light lines: they were white on white (invisible) and most of the
                // chart's SVG, drawn for every app page
                .light_line_style(TRANSPARENT)
                .bold_line_style(RGBColor(225, 225, 225))
                .y_label_formatter(&|y| {
                    if top >= 20.0 {
                        format!("{}", y.round() as i64)
                    } else {
                        format!("{y:.1}")
                    }
                })
                .x_labels(n.min(12))
                .x_label_formatter(&|x| {
                    let i = x.round() as usize;
                    if (x - i as f64).abs() < 0.01 && i.is_multiple_of(step) {
                        labels.get(i).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .y_desc(y_desc)
                .label_style(("sans-serif", 13))
                .draw()?;
            for (k, s) in series.iter().enumerate() {
                let color = PALETTE[k % PALETTE.len()];
                let points: Vec<(f64, f64)> = s
                    .values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.map(|v| (i as f64, v)))
                    .collect();
                chart
                    .draw_series(LineSeries::new(points.clone(), color.stroke_width(3)))?
                    .label(s.name.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                    });
                // a marker per point, so a single month still shows
                chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
            }
            if series.len() > 1 {
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(RGBColor(200, 200, 200))
                    .label_font(("sans-serif", 13))
                    .position(SeriesLabelPosition::UpperLeft)
                    .draw()?;
            }
            root.present()?;
            Ok(())
        })();
        if drawn.is_err() {
            return String::new();
        }
    }
    // an accessible name; the numbers are in the table beside it
    svg.replacen(
        "<svg ",
        &format!(
            "<svg role=\"img\" aria-label=\"{}\" class=\"chart\" preserveAspectRatio=\"xMidYMid meet\" ",
            escape(title)
        ),
        1,
    )
}

/// A chart for the templates: its id, title, summary sentence, SVG and data table.
pub fn model(
    id: &str,
    title: &str,
    summary: String,
    labels: &[String],
    series: Vec<Series>,
    y_desc: &str,
    fmt: fn(f64) -> String,
) -> Value {
    let svg = line_chart(title, labels, &series, y_desc);
    let rows: Vec<Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({ "label": l, "values": series.iter().map(|s| s.values[i].map(fmt).unwrap_or_else(|| "—".into())).collect::<Vec<_>>() })
        })
        .collect();
    json!({
        "id": id, "title": title, "summary": summary, "svg": svg,
        "columns": series.iter().map(|s| s.name.clone()).collect::<Vec<_>>(), "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_an_svg_without_scripts_that_names_itself() {
        let labels: Vec<String> = ["2026-09", "2026-10"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let svg = line_chart(
            "Users <by> month",
            &labels,
            &[Series {
                name: "users".into(),
                values: vec![Some(3.0), Some(5.0)],
            }],
            "people",
        );
        assert!(
            svg.starts_with("<svg role=\"img\" aria-label=\"Users &lt;by&gt; month\""),
            "{svg}"
        );
        assert!(svg.contains("viewBox") && svg.contains("2026-10"), "{svg}");
        assert!(!svg.contains("<script"));
    }
}
