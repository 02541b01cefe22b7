//! A session tree as text: one line per event, its place in the tree, its type, when it started
//! relative to the session and how long it took, and a bar showing that span on the session's
//! timeline.

use crate::wire::SessionTree;

/// Cells of the timeline bar.
const BAR_CELLS: usize = 40;
/// Longest label (tree drawing, name and type) before it is cut with `…`.
const LABEL_CHARS: usize = 48;

/// Renders `tree` as a waterfall, one line per event, children under their parent in start order
/// (the order of [`SessionTree::children`]).
///
/// Each line holds the event's name and `[type]` (with `(error)` when it failed), indented with
/// tree drawing; its start as an offset from the session's start, in milliseconds; its duration
/// in milliseconds; and a bar placing that span on a timeline from the earliest start to the
/// latest end in the tree. The output depends only on the tree: no colours, no clock, no terminal
/// width, and every line ends with `\n`.
///
/// ```
/// use tracing_honeyhive::emulator::waterfall;
/// use tracing_honeyhive::wire::SessionTree;
///
/// let tree: SessionTree = serde_json::from_value(serde_json::json!({
///     "event_name": "support chat", "event_type": "session",
///     "start_time": 1000.0, "end_time": 1400.0, "duration": 400.0,
///     "children": [{
///         "event_name": "reply", "event_type": "model",
///         "start_time": 1100.0, "end_time": 1400.0, "duration": 300.0,
///         "children": []
///     }]
/// })).unwrap();
/// assert_eq!(
///     waterfall(&tree),
///     "support chat [session]    +0 ms  400 ms  |████████████████████████████████████████|\n\
///      └─ reply [model]        +100 ms  300 ms  |          ██████████████████████████████|\n"
/// );
/// ```
pub fn waterfall(tree: &SessionTree) -> String {
    let origin = tree.event.start_time.unwrap_or(0.0);
    let mut rows = Vec::new();
    collect(tree, "", "", origin, &mut rows);
    let first = rows.iter().map(|r| r.start).fold(origin, f64::min);
    let last = rows
        .iter()
        .map(|r| r.start + r.duration)
        .fold(first, f64::max);
    let label_width = rows.iter().map(|r| r.label.chars().count()).max();
    let offset_width = rows.iter().map(|r| r.offset.len()).max();
    let duration_width = rows.iter().map(|r| r.duration_text.len()).max();
    let mut out = String::new();
    for row in &rows {
        let bar = bar(row.start - first, row.duration, last - first);
        out.push_str(&format!(
            "{label:<lw$}  {offset:>ow$}  {duration:>dw$}  |{bar}|\n",
            label = row.label,
            lw = label_width.unwrap_or(0),
            offset = row.offset,
            ow = offset_width.unwrap_or(0),
            duration = row.duration_text,
            dw = duration_width.unwrap_or(0),
        ));
    }
    out
}

/// One event, measured and labelled.
struct Row {
    label: String,
    offset: String,
    duration_text: String,
    start: f64,
    duration: f64,
}

/// Appends `node` and its descendants: `lead` draws this node's branch, `indent` the branches of
/// its ancestors that continue below it.
fn collect(node: &SessionTree, lead: &str, indent: &str, origin: f64, rows: &mut Vec<Row>) {
    let event = &node.event;
    let start = finite(event.start_time).unwrap_or(origin);
    let end = finite(event.end_time);
    let duration = finite(event.duration)
        .or_else(|| end.map(|end| end - start))
        .unwrap_or(0.0)
        .max(0.0);
    let name = event.event_name.as_deref().unwrap_or("unknown");
    let kind = event.event_type.as_deref().unwrap_or("?");
    let failed = if event.error.is_some() {
        " (error)"
    } else {
        ""
    };
    rows.push(Row {
        label: cut(&format!("{indent}{lead}{name} [{kind}]{failed}")),
        offset: format!(
            "{}{} ms",
            if start < origin { "-" } else { "+" },
            ms(start - origin)
        ),
        duration_text: format!("{} ms", ms(duration)),
        start,
        duration,
    });
    let below = match lead {
        "" => String::new(),
        "└─ " => format!("{indent}   "),
        _ => format!("{indent}│  "),
    };
    for (i, child) in node.children.iter().enumerate() {
        let last = i + 1 == node.children.len();
        let lead = if last { "└─ " } else { "├─ " };
        collect(child, lead, &below, origin, rows);
    }
}

fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

/// Milliseconds without a sign: whole below 10 ms only when whole, else one decimal; from
/// 10 ms on, rounded to whole milliseconds.
fn ms(value: f64) -> String {
    let value = value.abs();
    if value < 10.0 && value.fract() != 0.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// `label`, cut to [`LABEL_CHARS`] with `…` when longer.
fn cut(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        return label.to_owned();
    }
    let kept: String = label.chars().take(LABEL_CHARS - 1).collect();
    kept + "…"
}

/// The span `[start, start + duration]` of a timeline `span` long, as [`BAR_CELLS`] cells; at
/// least one cell is filled, so an instant event still shows where it happened.
fn bar(start: f64, duration: f64, span: f64) -> String {
    let cells = BAR_CELLS as f64;
    let (from, to) = if span > 0.0 {
        let from = (start / span * cells).floor().clamp(0.0, cells - 1.0);
        let to = ((start + duration) / span * cells)
            .ceil()
            .clamp(from + 1.0, cells);
        (from as usize, to as usize)
    } else {
        (0, 1)
    };
    (0..BAR_CELLS)
        .map(|cell| {
            if (from..to).contains(&cell) {
                '█'
            } else {
                ' '
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn node(name: &str, kind: &str, start: f64, duration: f64, children: Vec<Value>) -> Value {
        json!({
            "event_name": name, "event_type": kind,
            "start_time": start, "end_time": start + duration, "duration": duration,
            "children": children,
        })
    }

    fn render(value: Value) -> Vec<String> {
        let tree: SessionTree = serde_json::from_value(value).expect("a session tree");
        let text = waterfall(&tree);
        assert!(text.ends_with('\n'), "{text:?}");
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn a_conversation_renders_as_an_indented_proportional_waterfall() {
        let lines = render(node(
            "order status",
            "session",
            1_000.0,
            800.0,
            vec![node(
                "answer",
                "chain",
                1_000.0,
                740.0,
                vec![
                    node("plan", "model", 1_005.0, 310.0, vec![]),
                    node("lookup_order", "tool", 1_320.0, 120.0, vec![]),
                    node("reply", "model", 1_445.0, 290.0, vec![]),
                ],
            )],
        ));
        assert_eq!(
            lines,
            [
                "order status [session]       +0 ms  800 ms  |████████████████████████████████████████|",
                "└─ answer [chain]            +0 ms  740 ms  |█████████████████████████████████████   |",
                "   ├─ plan [model]           +5 ms  310 ms  |████████████████                        |",
                "   ├─ lookup_order [tool]  +320 ms  120 ms  |                ██████                  |",
                "   └─ reply [model]        +445 ms  290 ms  |                      ███████████████   |",
            ]
        );
    }

    #[test]
    fn a_branch_that_continues_below_a_subtree_is_drawn_through_it() {
        let lines = render(node(
            "s",
            "session",
            0.0,
            40.0,
            vec![
                node(
                    "a",
                    "chain",
                    0.0,
                    20.0,
                    vec![node("a1", "tool", 0.0, 10.0, vec![])],
                ),
                node(
                    "b",
                    "chain",
                    20.0,
                    20.0,
                    vec![node("b1", "tool", 30.0, 10.0, vec![])],
                ),
            ],
        ));
        let labels: Vec<&str> = lines
            .iter()
            .map(|l| l[..l.find(" +").unwrap()].trim_end())
            .collect();
        assert_eq!(
            labels,
            [
                "s [session]",
                "├─ a [chain]",
                "│  └─ a1 [tool]",
                "└─ b [chain]",
                "   └─ b1 [tool]"
            ]
        );
        let b1 = format!("|{}{}|", " ".repeat(30), "█".repeat(10));
        assert!(lines[4].ends_with(&b1), "{}", lines[4]);
    }

    #[test]
    fn instants_and_a_zero_length_session_still_show_one_cell() {
        let lines = render(node(
            "blink",
            "session",
            5.0,
            0.0,
            vec![node("tick", "tool", 5.0, 0.0, vec![])],
        ));
        let cell = format!("|█{}|", " ".repeat(BAR_CELLS - 1));
        for line in &lines {
            assert!(line.ends_with(&cell), "{line}");
            assert!(line.contains("+0 ms  0 ms"), "{line}");
        }
    }

    #[test]
    fn an_event_before_the_session_start_gets_a_negative_offset_and_the_timeline_widens() {
        let lines = render(node(
            "late session",
            "session",
            100.0,
            100.0,
            vec![node("early", "model", 0.0, 50.0, vec![])],
        ));
        assert!(lines[0].contains("  +0 ms  100 ms  "), "{}", lines[0]);
        assert!(lines[1].contains("-100 ms   50 ms  "), "{}", lines[1]);
        let bars: Vec<&str> = lines.iter().map(|l| &l[l.find('|').unwrap()..]).collect();
        let half = " ".repeat(BAR_CELLS / 2);
        let fill = "█".repeat(BAR_CELLS / 2);
        assert_eq!(bars[0], format!("|{half}{fill}|"));
        assert_eq!(bars[1], format!("|{}{}|", "█".repeat(10), " ".repeat(30)));
    }

    #[test]
    fn long_names_are_cut_failures_marked_and_fractions_kept_below_ten_ms() {
        let mut failed = node(&"x".repeat(80), "tool", 0.0, 2.5, vec![]);
        failed["error"] = json!("timeout");
        let lines = render(node("s", "session", 0.0, 12.4, vec![failed]));
        let label = lines[1].split("  ").next().unwrap();
        assert_eq!(label.chars().count(), LABEL_CHARS);
        assert!(label.ends_with('…'), "{label}");
        assert!(lines[1].contains("  2.5 ms  "), "{}", lines[1]);
        assert!(lines[0].contains("  12 ms  "), "{}", lines[0]);
        let short = render(node(
            "s",
            "session",
            0.0,
            1.0,
            vec![{
                let mut e = node("call", "tool", 0.0, 1.0, vec![]);
                e["error"] = json!("boom");
                e
            }],
        ));
        assert!(
            short[1].starts_with("└─ call [tool] (error)"),
            "{}",
            short[1]
        );
    }

    #[test]
    fn missing_times_fall_back_to_the_session_start_and_zero_duration() {
        let lines = render(json!({
            "event_type": "session",
            "children": [{"event_name": "untimed", "children": []}],
        }));
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("unknown [session]"), "{}", lines[0]);
        assert!(lines[1].starts_with("└─ untimed [?]"), "{}", lines[1]);
        assert!(lines[1].contains("+0 ms  0 ms"), "{}", lines[1]);
    }
}
