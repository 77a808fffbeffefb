//! `--output table`: the AWS CLI's boxed table
//! (<https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-output-format.html#table-output>).
//!
//! The document becomes *sections*, as the AWS CLI builds them:
//! - the first section is titled with the operation (`DescribeJob`);
//! - an object gives one row of its scalar values under a header row of
//!   their sorted keys (a single scalar: one `key | value` row); each of
//!   its lists and objects, in key order, becomes a section titled with its
//!   key, indented one level deeper;
//! - a list of objects gives a header of the sorted scalar keys of all its
//!   objects and one row per object (when the objects have nested values,
//!   each object starts a new section with the same title and header);
//! - a list of scalars gives one row per value.
//!
//! The whole table is as wide as its widest section (each column its
//! longest cell plus four); every section is stretched to that width. A
//! table wider than the terminal (80 columns when stdout is not a terminal)
//! is turned vertical: every section with a header and a single row
//! becomes `key | value` rows. Nested sections are framed by one `|` per
//! level on each side. With colour, values are bright blue and the frames
//! of nested sections dim yellow, as the AWS CLI colours them.
//!
//! Cell widths count characters; the AWS CLI counts East Asian wide
//! characters twice. The documents of this tool are ASCII apart from file
//! names.

use serde_json::{Map, Value};

use super::text::py_str;

const ROW_STYLE: &str = "\x1b[1m\x1b[34m";
const FRAME_STYLE: &str = "\x1b[2m\x1b[33m";
const RESET: &str = "\x1b[0m";

/// `doc` as a table titled `title`, for a terminal `width` columns wide;
/// `None` when the AWS CLI prints nothing (an empty or false document).
pub fn format(
    title: &str,
    doc: &Value,
    width: usize,
    color: bool,
) -> Result<Option<String>, String> {
    let mut t = Builder::default();
    if !t.build(Some(title), doc, 0)? {
        return Ok(None);
    }
    Ok(Some(render(t.sections, width, color)))
}

/// Python's truth value of a JSON value: `None`, `False`, 0, "", [] and {} are false.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

#[derive(Default, Debug, Clone, PartialEq)]
struct Section {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    indent: usize,
    columns: Option<usize>,
    max_widths: Vec<usize>,
}

impl Section {
    fn add_header(&mut self, headers: Vec<String>) {
        self.update_widths(&headers);
        self.columns.get_or_insert(headers.len());
        self.headers = headers;
    }

    fn add_row(&mut self, row: Vec<String>) -> Result<(), String> {
        let columns = *self.columns.get_or_insert(row.len());
        if row.len() != columns {
            return Err(format!(
                "table output: a row of {} values in a table of {columns} columns (use --output json)",
                row.len()
            ));
        }
        self.update_widths(&row);
        self.rows.push(row);
        Ok(())
    }

    fn update_widths(&mut self, cells: &[String]) {
        if self.max_widths.is_empty() {
            self.max_widths = cells.iter().map(|c| text_len(c)).collect();
        } else {
            for (w, c) in self.max_widths.iter_mut().zip(cells) {
                *w = (*w).max(text_len(c));
            }
        }
    }

    /// The columns' widths (each cell plus `padding`), scaled to add up
    /// to `max_width` as the AWS CLI scales them (Python's rounding).
    fn column_widths(&self, padding: usize, max_width: usize) -> Vec<usize> {
        let unscaled: Vec<i64> = self
            .max_widths
            .iter()
            .map(|w| (w + padding) as i64)
            .collect();
        if unscaled.is_empty() {
            return Vec::new();
        }
        let total: i64 = unscaled.iter().sum();
        let scale = max_width as f64 / total as f64;
        let mut scaled: Vec<i64> = unscaled
            .iter()
            .map(|w| (scale * *w as f64).round_ties_even() as i64)
            .collect();
        let mut off_by: i64 = scaled.iter().sum::<i64>() - max_width as i64;
        while off_by != 0 {
            let order: Vec<usize> = if off_by < 0 {
                (0..scaled.len()).rev().collect()
            } else {
                (0..scaled.len()).collect()
            };
            for i in order {
                if off_by > 0 {
                    scaled[i] -= 1;
                    off_by -= 1;
                } else {
                    scaled[i] += 1;
                    off_by += 1;
                }
                if off_by == 0 {
                    break;
                }
            }
        }
        scaled.into_iter().map(|w| w.max(0) as usize).collect()
    }

    /// Width of the section with four spaces per column, its borders and
    /// its indentation.
    fn total_width(&self) -> usize {
        let columns: usize = self.max_widths.iter().map(|w| w + 4).sum();
        let frame = 2 + 2 * self.indent;
        (text_len(&self.title) + frame).max(columns + frame)
    }
}

/// The AWS CLI's table builder: the document into sections.
#[derive(Default)]
struct Builder {
    sections: Vec<Section>,
}

impl Builder {
    fn current(&mut self) -> &mut Section {
        if self.sections.is_empty() {
            self.sections.push(Section::default());
        }
        let last = self.sections.len() - 1;
        &mut self.sections[last]
    }

    fn new_section(&mut self, title: &str, indent: usize) {
        self.sections.push(Section {
            title: title.to_owned(),
            indent,
            ..Section::default()
        });
    }

    fn build(&mut self, title: Option<&str>, v: &Value, indent: usize) -> Result<bool, String> {
        if !truthy(v) {
            return Ok(false);
        }
        if let Some(t) = title {
            self.new_section(t, indent);
        }
        match v {
            Value::Array(items) if items.first().is_some_and(Value::is_object) => {
                self.add_list(items, indent, title)?;
            }
            Value::Array(items) => {
                for item in items {
                    match item {
                        scalar if is_scalar(scalar) => {
                            self.current().add_row(vec![py_str(scalar)])?
                        }
                        Value::Array(a) if a.iter().all(is_scalar) => {
                            self.current().add_row(a.iter().map(py_str).collect())?;
                        }
                        // Iterating an object gives its keys, all scalars.
                        Value::Object(m) => self.current().add_row(m.keys().cloned().collect())?,
                        nested => {
                            self.build(None, nested, indent)?;
                        }
                    }
                }
            }
            Value::Object(m) => self.add_object(m, indent)?,
            _ => {}
        }
        Ok(true)
    }

    fn add_object(&mut self, m: &Map<String, Value>, indent: usize) -> Result<(), String> {
        let (headers, more) = group_keys(m);
        if headers.len() == 1 {
            let k = &headers[0];
            self.current().add_row(vec![k.clone(), py_str(&m[k])])?;
        } else if !headers.is_empty() {
            let row = headers.iter().map(|k| py_str(&m[k])).collect();
            self.current().add_header(headers);
            self.current().add_row(row)?;
        }
        for k in more {
            self.build(Some(&k), &m[&k], indent + 1)?;
        }
        Ok(())
    }

    fn add_list(
        &mut self,
        items: &[Value],
        indent: usize,
        title: Option<&str>,
    ) -> Result<(), String> {
        let empty = Map::new();
        let objects: Vec<&Map<String, Value>> = items
            .iter()
            .map(|v| v.as_object().unwrap_or(&empty))
            .collect();
        let mut headers: Vec<String> = Vec::new();
        let mut more: Vec<String> = Vec::new();
        for m in &objects {
            let (h, n) = group_keys(m);
            headers.extend(h);
            more.extend(n);
        }
        headers.sort();
        headers.dedup();
        more.sort();
        more.dedup();
        self.current().add_header(headers.clone());
        for (i, m) in objects.iter().enumerate() {
            if i > 0 && !more.is_empty() {
                self.new_section(title.unwrap_or(""), indent);
                self.current().add_header(headers.clone());
            }
            let row = headers
                .iter()
                .map(|h| m.get(h).map(py_str).unwrap_or_default())
                .collect();
            self.current().add_row(row)?;
            for k in &more {
                if let Some(v) = m.get(k) {
                    self.build(Some(k), v, indent + 1)?;
                }
            }
        }
        Ok(())
    }
}

/// An object's keys: those with scalar values and the others, each sorted.
fn group_keys(m: &Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let (mut scalars, mut nested): (Vec<String>, Vec<String>) =
        m.keys().cloned().partition(|k| is_scalar(&m[k]));
    scalars.sort();
    nested.sort();
    (scalars, nested)
}

fn text_len(s: &str) -> usize {
    s.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

/// East Asian Wide and Fullwidth characters (the common blocks).
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD)
}

fn spaces(n: i64) -> String {
    " ".repeat(n.max(0) as usize)
}

fn center(text: &str, text_len: usize, length: usize, left: &str, right: &str) -> String {
    let (length, text_len) = (length as i64, text_len as i64);
    let start = length / 2 - text_len / 2 - 1;
    let so_far = left.chars().count() as i64 + start + text_len;
    let right_spaces = length - right.chars().count() as i64 - so_far;
    format!(
        "{left}{}{text}{}{right}",
        spaces(start),
        spaces(right_spaces)
    )
}

fn align_left(text: &str, text_len: usize, length: usize, left: &str, right: &str) -> String {
    let (length, text_len) = (length as i64, text_len as i64);
    let edges = (left.len() + right.len()) as i64;
    let padding = if length - (text_len + 2 + edges) >= 0 {
        2
    } else {
        0
    };
    let fill = length - (left.len() as i64 + padding + text_len) - right.len() as i64;
    format!("{left}{}{text}{}{right}", spaces(padding), spaces(fill))
}

fn line_break(widths: &[usize]) -> String {
    let mut s = String::new();
    for (i, w) in widths.iter().enumerate() {
        let dashes = if i == 0 {
            w.saturating_sub(2)
        } else {
            w.saturating_sub(1)
        };
        if i == 0 {
            s.push('+');
        }
        s.push_str(&"-".repeat(dashes));
        s.push('+');
    }
    s
}

/// A section with a header and one row becomes `key | value` rows.
fn vertical(sections: &mut [Section]) {
    for s in sections.iter_mut() {
        if s.rows.len() == 1 && !s.headers.is_empty() {
            let mut v = Section {
                title: s.title.clone(),
                indent: s.indent,
                ..Section::default()
            };
            for (h, cell) in s.headers.iter().zip(&s.rows[0]) {
                // Two cells in every row: cannot fail.
                let _ = v.add_row(vec![h.clone(), cell.clone()]);
            }
            *s = v;
        }
    }
}

fn render(mut sections: Vec<Section>, terminal_width: usize, color: bool) -> String {
    let widest = |s: &[Section]| s.iter().map(Section::total_width).max().unwrap_or(0);
    let mut max_width = widest(&sections);
    if max_width > terminal_width {
        vertical(&mut sections);
        max_width = widest(&sections);
    }
    let mut out = "-".repeat(max_width);
    out.push('\n');
    for s in &sections {
        render_section(s, max_width, color, &mut out);
    }
    out
}

fn render_section(s: &Section, max_width: usize, color: bool, out: &mut String) {
    let frame = if color {
        format!("{FRAME_STYLE}|{RESET}")
    } else {
        "|".to_owned()
    };
    let frame = frame.repeat(s.indent);
    let mut line = |text: String| {
        out.push_str(&frame);
        out.push_str(&text);
        out.push_str(&frame);
        out.push('\n');
    };
    let width = max_width.saturating_sub(2 * s.indent);
    if !s.title.is_empty() {
        line(center(&s.title, text_len(&s.title), width, "|", "|"));
        if s.headers.is_empty() && s.rows.is_empty() {
            line(format!("+{}+", "-".repeat(width.saturating_sub(2))));
        }
    }
    if !s.headers.is_empty() {
        let widths = s.column_widths(4, width);
        line(line_break(&widths));
        let mut text = String::new();
        for (i, (w, h)) in widths.iter().zip(&s.headers).enumerate() {
            let left = if i == 0 { "|" } else { "" };
            text.push_str(&center(h, text_len(h), *w, left, "|"));
        }
        line(text);
    }
    if s.rows.is_empty() {
        return;
    }
    let widths = s.column_widths(4, width);
    if widths.is_empty() {
        return;
    }
    line(line_break(&widths));
    for row in &s.rows {
        let mut text = String::new();
        for (i, (w, cell)) in widths.iter().zip(row).enumerate() {
            let left = if i == 0 { "|" } else { "" };
            let styled = if color {
                format!("{ROW_STYLE}{cell}{RESET}")
            } else {
                cell.clone()
            };
            text.push_str(&align_left(&styled, text_len(cell), *w, left, "|"));
        }
        line(text);
    }
    line(line_break(&widths));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(title: &str, v: Value, width: usize) -> String {
        format(title, &v, width, false).unwrap().unwrap()
    }

    // The expected tables were printed by the AWS CLI (1.46.3, whose
    // table code is the v2 CLI's) for the same documents, `--color off`, not
    // on a terminal.

    #[test]
    fn an_object_is_a_header_and_a_row() {
        let v = json!({"location": "/-/vaults/v/jobs/J", "jobId": "J"});
        assert_eq!(
            table("InitiateJob", v, 80),
            "\
---------------------------------
|          InitiateJob          |
+--------+----------------------+
|  jobId |      location        |
+--------+----------------------+
|  J     |  /-/vaults/v/jobs/J  |
+--------+----------------------+
"
        );
    }

    #[test]
    fn a_single_scalar_is_a_key_value_row_and_a_scalar_only_a_title() {
        assert_eq!(
            table("DescribeVault", json!({"VaultName": "photos"}), 80),
            "\
-------------------------
|     DescribeVault     |
+------------+----------+
|  VaultName |  photos  |
+------------+----------+
"
        );
        assert_eq!(
            table("GetJobOutput", json!("beb0"), 80),
            "\
--------------
|GetJobOutput|
+------------+
"
        );
        assert_eq!(format("GetJobOutput", &Value::Null, 80, false), Ok(None));
        assert_eq!(format("GetJobOutput", &json!(""), 80, false), Ok(None));
        assert_eq!(
            format("ListJobs", &json!({"JobList": []}), 80, false).unwrap(),
            Some(
                "\
----------
|ListJobs|
+--------+
"
                .to_owned()
            )
        );
    }

    #[test]
    fn a_wide_table_turns_vertical() {
        let v = json!({"VaultARN": "arn:aws:glacier:us-east-1:012345678901:vaults/photos",
            "VaultName": "photos", "NumberOfArchives": 12, "SizeInBytes": 123456789});
        assert_eq!(
            table("DescribeVault", v.clone(), 80),
            "\
------------------------------------------------------------------------------
|                                DescribeVault                               |
+-------------------+--------------------------------------------------------+
|  NumberOfArchives |  12                                                    |
|  SizeInBytes      |  123456789                                             |
|  VaultARN         |  arn:aws:glacier:us-east-1:012345678901:vaults/photos  |
|  VaultName        |  photos                                                |
+-------------------+--------------------------------------------------------+
"
        );
        // On a terminal wide enough it stays one row.
        assert!(table("DescribeVault", v, 200).contains("| NumberOfArchives | SizeInBytes  |"));
    }

    #[test]
    fn lists_of_objects_and_nested_sections() {
        let v = json!({"VaultList": [
            {"VaultName": "a", "SizeInBytes": 1},
            {"VaultName": "bb", "SizeInBytes": 22}
        ]});
        assert_eq!(
            table("ListVaults", v, 80),
            "\
--------------------------------
|          ListVaults          |
+------------------------------+
||          VaultList         ||
|+--------------+-------------+|
||  SizeInBytes |  VaultName  ||
|+--------------+-------------+|
||  1           |  a          ||
||  22          |  bb         ||
|+--------------+-------------+|
"
        );
        // Objects with nested values: a section per object.
        let v = json!({"JobList": [
            {"JobId": "a", "InventoryRetrievalParameters": {"Format": "CSV"}},
            {"JobId": "b", "InventoryRetrievalParameters": {"Format": "JSON", "Limit": "5"}}
        ]});
        assert_eq!(
            table("ListJobs", v, 80),
            "\
----------------------------------
|            ListJobs            |
+--------------------------------+
||            JobList           ||
|+------------------------------+|
||             JobId            ||
|+------------------------------+|
||  a                           ||
|+------------------------------+|
|||InventoryRetrievalParameters|||
||+----------------+-----------+||
|||  Format        |  CSV      |||
||+----------------+-----------+||
||            JobList           ||
|+------------------------------+|
||             JobId            ||
|+------------------------------+|
||  b                           ||
|+------------------------------+|
|||InventoryRetrievalParameters|||
||+--------------+-------------+||
|||    Format    |    Limit    |||
||+--------------+-------------+||
|||  JSON        |  5          |||
||+--------------+-------------+||
"
        );
        // The get-job-output report's shape: scalars, objects, lists of scalars.
        let v = json!({"status": 200, "checksum": "ab",
            "verification": {"verdict": "verified", "level": "header-hash",
                "comparisons": [{"with": "x-amz-sha256-tree-hash", "result": "match"}],
                "warnings": ["w1", "w2"], "notes": []},
            "outfile": "out.bin"});
        assert_eq!(
            table("GetJobOutput", v, 80),
            "\
------------------------------------------
|              GetJobOutput              |
+-------------+-------------+------------+
|  checksum   |   outfile   |  status    |
+-------------+-------------+------------+
|  ab         |  out.bin    |  200       |
+-------------+-------------+------------+
||             verification             ||
|+--------------------+-----------------+|
||        level       |     verdict     ||
|+--------------------+-----------------+|
||  header-hash       |  verified       ||
|+--------------------+-----------------+|
|||             comparisons            |||
||+---------+--------------------------+||
||| result  |          with            |||
||+---------+--------------------------+||
|||  match  |  x-amz-sha256-tree-hash  |||
||+---------+--------------------------+||
|||              warnings              |||
||+------------------------------------+||
|||  w1                                |||
|||  w2                                |||
||+------------------------------------+||
"
        );
    }

    #[test]
    fn colour_marks_values_and_frames_without_changing_widths() {
        let v = json!({"Policy": {"Rules": [{"Strategy": "FreeTier"}]}});
        let plain = format("GetDataRetrievalPolicy", &v, 80, false)
            .unwrap()
            .unwrap();
        let colored = format("GetDataRetrievalPolicy", &v, 80, true)
            .unwrap()
            .unwrap();
        assert!(
            colored.contains("\x1b[1m\x1b[34mFreeTier\x1b[0m"),
            "{colored}"
        );
        assert!(colored.contains("\x1b[2m\x1b[33m|\x1b[0m"), "{colored}");
        let stripped = colored
            .replace("\x1b[1m\x1b[34m", "")
            .replace("\x1b[2m\x1b[33m", "")
            .replace("\x1b[0m", "");
        assert_eq!(stripped, plain);
    }

    #[test]
    fn ragged_rows_are_an_error_not_a_panic() {
        let e = format("X", &json!([["a", "b"], ["c"]]), 80, false).unwrap_err();
        assert!(e.contains("--output json"), "{e}");
    }

    #[test]
    fn widths_scale_with_python_rounding() {
        let s = Section {
            max_widths: vec![1, 2, 3],
            ..Section::default()
        };
        let w = s.column_widths(4, 30);
        assert_eq!(w.iter().sum::<usize>(), 30);
        assert_eq!(w, [8, 10, 12]);
    }
}
