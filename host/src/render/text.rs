//! `--output text`: the AWS CLI's tab-separated lines
//! (<https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-output-format.html#text-output>).
//!
//! The rules, as the AWS CLI applies them to any document:
//! - a scalar is printed on its own line;
//! - an object prints one line of its scalar values, in the order of their
//!   sorted keys, preceded by the object's key in upper case when it has one
//!   (`JOBLIST<TAB>…`); then each of its lists and objects, in key order, with
//!   that key as their identifier;
//! - a list of objects prints one line per object, all with the same
//!   columns: the sorted scalar keys of every object of the list (a missing
//!   one is an empty field);
//! - a list of scalars prints them on one line separated by tabs, or, when
//!   the list has an identifier, one `IDENTIFIER<TAB>value` line each;
//! - values are written as Python writes them: `True`, `False`, `None`.

use serde_json::{Map, Value};

/// The document as the AWS CLI's text output.
pub fn format(doc: &Value) -> String {
    let mut out = String::new();
    item(doc, None, None, &mut out);
    out
}

fn item(v: &Value, identifier: Option<&str>, scalar_keys: Option<&[String]>, out: &mut String) {
    match v {
        Value::Object(m) => object(m, identifier, scalar_keys, out),
        Value::Array(a) => list(a, identifier, out),
        scalar => {
            out.push_str(&py_str(scalar));
            out.push('\n');
        }
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

fn list(items: &[Value], identifier: Option<&str>, out: &mut String) {
    if items.is_empty() {
        return;
    }
    if items.iter().any(Value::is_object) {
        let keys = all_scalar_keys(items);
        for element in items {
            item(element, identifier, Some(&keys), out);
        }
    } else if items.iter().any(Value::is_array) {
        let scalars: Vec<&Value> = items.iter().filter(|v| is_scalar(v)).collect();
        if !scalars.is_empty() {
            scalar_list(&scalars, identifier, out);
        }
        for nested in items.iter().filter(|v| !is_scalar(v)) {
            item(nested, identifier, None, out);
        }
    } else {
        let all: Vec<&Value> = items.iter().collect();
        scalar_list(&all, identifier, out);
    }
}

fn scalar_list(items: &[&Value], identifier: Option<&str>, out: &mut String) {
    match identifier {
        Some(id) => {
            for v in items {
                out.push_str(&format!("{}\t{}\n", id.to_uppercase(), py_str(v)));
            }
        }
        None => {
            let fields: Vec<String> = items.iter().map(|v| py_str(v)).collect();
            out.push_str(&fields.join("\t"));
            out.push('\n');
        }
    }
}

fn object(
    m: &Map<String, Value>,
    identifier: Option<&str>,
    scalar_keys: Option<&[String]>,
    out: &mut String,
) {
    let mut sorted: Vec<(&String, &Value)> = m.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let (mut scalars, nested): (Vec<String>, Vec<(&String, &Value)>) = match scalar_keys {
        None => {
            let scalars = sorted
                .iter()
                .filter(|(_, v)| is_scalar(v))
                .map(|(_, v)| py_str(v))
                .collect();
            let nested = sorted.into_iter().filter(|(_, v)| !is_scalar(v)).collect();
            (scalars, nested)
        }
        Some(keys) => {
            let scalars = keys
                .iter()
                .map(|k| m.get(k).map(py_str).unwrap_or_default())
                .collect();
            let nested = sorted
                .into_iter()
                .filter(|(k, _)| !keys.contains(k))
                .collect();
            (scalars, nested)
        }
    };
    if !scalars.is_empty() {
        if let Some(id) = identifier {
            scalars.insert(0, id.to_uppercase());
        }
        out.push_str(&scalars.join("\t"));
        out.push('\n');
    }
    for (key, v) in nested {
        item(v, Some(key), None, out);
    }
}

/// The sorted keys whose values are scalars in any object of the list.
fn all_scalar_keys(items: &[Value]) -> Vec<String> {
    let mut keys: Vec<String> = items
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|m| {
            m.iter()
                .filter(|(_, v)| is_scalar(v))
                .map(|(k, _)| k.clone())
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// A value as Python's `str()` writes it (the AWS CLI formats Python
/// objects): `True`, `False`, `None`; strings bare; lists and objects as
/// Python's `repr`.
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.contains('\'') && !s.contains('"') => {
            format!("\"{}\"", s.replace('\\', "\\\\"))
        }
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(py_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&Value::String(k.clone())), py_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_scalar_is_a_line() {
        assert_eq!(format(&json!("beb0fe31")), "beb0fe31\n");
        assert_eq!(format(&json!(7)), "7\n");
        assert_eq!(format(&json!(true)), "True\n");
        assert_eq!(format(&Value::Null), "None\n");
    }

    #[test]
    fn an_object_prints_its_scalars_by_sorted_key_then_its_lists() {
        // DescribeVault's shape.
        let v = json!({
            "VaultARN": "arn:aws:glacier:us-east-1:012345678901:vaults/v",
            "VaultName": "v",
            "CreationDate": "2012-03-20T17:03:43.221Z",
            "NumberOfArchives": 3,
            "SizeInBytes": 1024
        });
        assert_eq!(
            format(&v),
            "2012-03-20T17:03:43.221Z\t3\t1024\tarn:aws:glacier:us-east-1:012345678901:vaults/v\tv\n"
        );
    }

    #[test]
    fn a_list_of_objects_shares_the_columns_of_all_its_objects() {
        // ListJobs' shape: the second job lacks ArchiveSizeInBytes.
        let v = json!({"JobList": [
            {"JobId": "a", "Completed": true, "ArchiveSizeInBytes": 5},
            {"JobId": "b", "Completed": false,
             "InventoryRetrievalParameters": {"Format": "CSV"}}
        ], "Marker": "m"});
        assert_eq!(
            format(&v),
            "m\nJOBLIST\t5\tTrue\ta\nJOBLIST\t\tFalse\tb\nINVENTORYRETRIEVALPARAMETERS\tCSV\n"
        );
    }

    #[test]
    fn nested_objects_and_lists_take_their_key_as_identifier() {
        // GetDataRetrievalPolicy's shape.
        let v = json!({"Policy": {"Rules": [{"Strategy": "BytesPerHour", "BytesPerHour": 10}]}});
        assert_eq!(format(&v), "RULES\t10\tBytesPerHour\n");
        // The get-job-output report's shape: scalars, then objects and lists.
        let v = json!({"status": 200, "checksum": "ab", "verification":
            {"verdict": "verified", "warnings": ["w1", "w2"], "comparisons": []}, "outfile": null});
        assert_eq!(
            format(&v),
            "ab\tNone\t200\nVERIFICATION\tverified\nWARNINGS\tw1\nWARNINGS\tw2\n"
        );
    }

    #[test]
    fn lists_of_scalars() {
        assert_eq!(format(&json!(["a", "b", 3])), "a\tb\t3\n");
        assert_eq!(format(&json!([])), "");
        assert_eq!(format(&json!([["a", "b"], "c", ["d"]])), "c\na\tb\nd\n");
        assert_eq!(format(&json!({"ids": ["a", "b"]})), "IDS\ta\nIDS\tb\n");
    }

    #[test]
    fn python_str() {
        assert_eq!(
            py_str(&json!(["a", 1, null, {"k": "it's"}])),
            "['a', 1, None, {'k': \"it's\"}]"
        );
    }
}
