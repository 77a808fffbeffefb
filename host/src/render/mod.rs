//! How a command's JSON document reaches the user, as the AWS CLI prints
//! it (<https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-output-format.html>):
//! the answer put in its AWS CLI shape ([`shapes`]), then `--query`
//! ([`query`]), then formatted as `json` (indented by four spaces, non-ASCII
//! as is), `text` ([`text`]) or `table` ([`table`]).
//!
//! Every JSON-printing command calls [`print`] (or [`print_to`]) with the
//! operation's name; the options come from [`install`], called once by
//! `cli::run` with the global `--output`, `--query` and `--color`.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

use crate::error::HostError;

pub mod query;
pub mod shapes;
pub mod table;
pub mod text;

pub use query::Query;

/// `--output`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// JSON, indented by four spaces.
    #[default]
    Json,
    /// Tab-separated values.
    Text,
    /// A boxed table.
    Table,
}

impl Format {
    /// The names the AWS CLI uses, `json`, `text` and `table`.
    pub const NAMES: [&'static str; 3] = ["json", "text", "table"];

    /// `json`, `text` or `table`.
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "json" => Some(Format::Json),
            "text" => Some(Format::Text),
            "table" => Some(Format::Table),
            _ => None,
        }
    }
}

/// `--color`: colours in table output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Color {
    /// Always.
    On,
    /// Never.
    Off,
    /// When the output goes to a terminal.
    #[default]
    Auto,
}

/// How documents are printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// `--output`, `AWS_DEFAULT_OUTPUT` or the profile's `output`.
    pub format: Format,
    /// `--query`.
    pub query: Option<Query>,
    /// `--color`.
    pub color: Color,
}

/// What the table needs to know of where it is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terminal {
    /// Columns (80 when the stream is not a terminal, as in the AWS CLI).
    pub width: usize,
    /// Whether the stream is a terminal (`--color auto`).
    pub is_tty: bool,
}

/// Where a document goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error (`get-job-output … -`, whose stdout carries the data).
    Stderr,
}

static OUTPUT: OnceLock<Output> = OnceLock::new();

/// Sets how this process prints documents (the first call wins).
pub fn install(output: Output) {
    let _ = OUTPUT.set(output);
}

fn installed() -> Output {
    OUTPUT.get().cloned().unwrap_or_default()
}

/// Prints the answer of `operation` on stdout, as the installed options say.
pub fn print(operation: &str, doc: &impl Serialize) -> Result<(), HostError> {
    print_to(Stream::Stdout, operation, doc)
}

/// [`print`] on `stream`.
pub fn print_to(stream: Stream, operation: &str, doc: &impl Serialize) -> Result<(), HostError> {
    let doc =
        serde_json::to_value(doc).map_err(|e| HostError::Internal(format!("{operation}: {e}")))?;
    let text = render(operation, doc, &installed(), terminal(stream)).map_err(HostError::Usage)?;
    let Some(text) = text else {
        return Ok(());
    };
    write_out(stream, |w| w.write_all(text.as_bytes()))
}

/// [`print_to`] for one of our own documents that can be large (a report
/// listing tens of thousands of parts): as JSON without `--query`, the
/// common case, it is written out as it is serialised, never held whole in
/// memory, so memory does not grow with the output's size. The text is the
/// one [`print_to`] prints; `doc` must not serialise to `{}` (printed here,
/// where the AWS CLI prints nothing).
pub fn print_streamed(
    stream: Stream,
    operation: &str,
    doc: &impl Serialize,
) -> Result<(), HostError> {
    let output = installed();
    if output.format != Format::Json || output.query.is_some() || shapes::reshapes(operation) {
        return print_to(stream, operation, doc);
    }
    write_out(stream, |w| write_json(w, doc))
}

/// Runs `write` on `stream` (buffered, flushed at the end); an error names
/// the stream.
fn write_out(
    stream: Stream,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), HostError> {
    fn on(
        w: &mut dyn Write,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        write(&mut *w)?;
        w.flush()
    }
    let (written, name) = match stream {
        Stream::Stdout => (
            on(
                &mut std::io::BufWriter::new(std::io::stdout().lock()),
                write,
            ),
            "<stdout>",
        ),
        Stream::Stderr => (
            on(
                &mut std::io::BufWriter::new(std::io::stderr().lock()),
                write,
            ),
            "<stderr>",
        ),
    };
    written.map_err(|e| HostError::io(name, e))
}

/// `doc` as [`json`] prints it, written to `w` as it is serialised.
fn write_json<W: Write + ?Sized>(w: &mut W, doc: &impl Serialize) -> std::io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(
        &mut *w,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    doc.serialize(&mut ser).map_err(std::io::Error::other)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// The text printed for `doc`, the answer of `operation`; `None` when the
/// AWS CLI prints nothing (an empty JSON object; in a table, an empty or
/// false result). An error is a `--query` or table error, in words.
pub fn render(
    operation: &str,
    doc: Value,
    output: &Output,
    term: Terminal,
) -> Result<Option<String>, String> {
    let doc = shapes::as_aws_cli_prints(operation, doc);
    let doc = match &output.query {
        Some(q) => q.apply(&doc)?,
        None => doc,
    };
    match output.format {
        Format::Json => Ok(json(&doc)),
        Format::Text => Ok(Some(text::format(&doc))),
        Format::Table => {
            let color = match output.color {
                Color::On => true,
                Color::Off => false,
                Color::Auto => term.is_tty,
            };
            table::format(operation, &doc, term.width, color)
        }
    }
}

/// JSON as the AWS CLI writes it: indented by four spaces, non-ASCII
/// characters as they are, a newline at the end; nothing for `{}`.
pub fn json(doc: &Value) -> Option<String> {
    if doc.as_object().is_some_and(serde_json::Map::is_empty) {
        return None;
    }
    let mut buf = Vec::new();
    write_json(&mut buf, doc).ok()?;
    String::from_utf8(buf).ok()
}

/// The width and kind of `stream`.
fn terminal(stream: Stream) -> Terminal {
    let (is_tty, size) = match stream {
        Stream::Stdout => {
            let out = std::io::stdout();
            (out.is_terminal(), rustix::termios::tcgetwinsize(&out).ok())
        }
        Stream::Stderr => {
            let err = std::io::stderr();
            (err.is_terminal(), rustix::termios::tcgetwinsize(&err).ok())
        }
    };
    let width = size
        .map(|w| usize::from(w.ws_col))
        .filter(|&w| w > 0)
        .unwrap_or(80);
    Terminal { width, is_tty }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PIPE: Terminal = Terminal {
        width: 80,
        is_tty: false,
    };

    fn out(format: Format, query: Option<&str>) -> Output {
        Output {
            format,
            query: query.map(|q| Query::parse(q).unwrap()),
            color: Color::Auto,
        }
    }

    #[test]
    fn json_is_indented_by_four_and_keeps_non_ascii() {
        let text = render(
            "X",
            json!({"a": [1], "d": "é"}),
            &out(Format::Json, None),
            PIPE,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            text,
            "{\n    \"a\": [\n        1\n    ],\n    \"d\": \"é\"\n}\n"
        );
        assert_eq!(json(&json!({})), None);
        assert_eq!(json(&Value::Null).as_deref(), Some("null\n"));
    }

    /// A document of our own, with what serialises differently through a
    /// `Value`: skipped fields, `Display` fields, nested lists, non-ASCII.
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Own {
        status: u16,
        #[serde(skip_serializing_if = "Option::is_none")]
        absent: Option<u8>,
        #[serde(serialize_with = "crate::report::display")]
        range: glacier_verify_core::ByteRange,
        list: Vec<Item>,
    }

    #[derive(Serialize)]
    struct Item {
        name: &'static str,
        size: f64,
        empty: Vec<u8>,
    }

    #[test]
    fn a_streamed_document_prints_as_the_rendered_one() {
        let doc = Own {
            status: 206,
            absent: None,
            range: glacier_verify_core::ByteRange::new(0, 1_048_575).unwrap(),
            list: vec![
                Item {
                    name: "é",
                    size: 1.5,
                    empty: vec![],
                },
                Item {
                    name: "\u{1}\"",
                    size: 2.0,
                    empty: vec![],
                },
            ],
        };
        let mut streamed = Vec::new();
        write_json(&mut streamed, &doc).unwrap();
        let value = serde_json::to_value(&doc).unwrap();
        let rendered = render("GetJobOutput", value, &out(Format::Json, None), PIPE)
            .unwrap()
            .unwrap();
        assert_eq!(String::from_utf8(streamed).unwrap(), rendered);
        assert!(rendered.contains("\"range\": \"0-1048575\""), "{rendered}");
        // Only our own documents: an AWS answer is put in its shape first.
        assert!(!shapes::reshapes("GetJobOutput"));
        assert!(shapes::reshapes("DescribeJob"));
    }

    #[test]
    fn the_shape_comes_first_then_the_query_then_the_format() {
        let answer = json!({"StatusCode": "Succeeded", "JobId": "J", "SHA256TreeHash": null});
        let r = |o: &Output| {
            render("DescribeJob", answer.clone(), o, PIPE)
                .unwrap()
                .unwrap()
        };
        assert_eq!(
            r(&out(Format::Json, None)),
            "{\n    \"JobId\": \"J\",\n    \"StatusCode\": \"Succeeded\"\n}\n"
        );
        assert_eq!(r(&out(Format::Text, Some("JobId"))), "J\n");
        // A null the model drops is absent, so the query finds nothing.
        assert_eq!(r(&out(Format::Text, Some("SHA256TreeHash"))), "None\n");
        assert_eq!(r(&out(Format::Json, Some("SHA256TreeHash"))), "null\n");
        assert!(
            r(&out(Format::Table, None)).contains("|  DescribeJob  |")
                || r(&out(Format::Table, None)).contains("DescribeJob")
        );
    }

    #[test]
    fn colour_follows_the_option_and_the_terminal() {
        let doc = json!({"VaultName": "v"});
        let tty = Terminal {
            width: 80,
            is_tty: true,
        };
        let with = |color, term| {
            let o = Output {
                format: Format::Table,
                query: None,
                color,
            };
            render("DescribeVault", doc.clone(), &o, term)
                .unwrap()
                .unwrap()
                .contains('\x1b')
        };
        assert!(with(Color::Auto, tty));
        assert!(!with(Color::Auto, PIPE));
        assert!(with(Color::On, PIPE));
        assert!(!with(Color::Off, tty));
        // Colour is only for tables.
        let o = Output {
            format: Format::Json,
            query: None,
            color: Color::On,
        };
        assert!(
            !render("DescribeVault", doc.clone(), &o, tty)
                .unwrap()
                .unwrap()
                .contains('\x1b')
        );
    }

    #[test]
    fn output_names() {
        assert_eq!(Format::parse("table"), Some(Format::Table));
        assert_eq!(Format::parse("yaml"), None);
        assert_eq!(Format::parse("JSON"), None);
    }
}
