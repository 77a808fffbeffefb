//! Vault inventory bodies in the two formats of docs/protocol.md §5.3: JSON (the
//! default, `application/json`) and Glacier's non-RFC-4180 CSV
//! (`text/csv`: a header row, fields holding a comma or a double quote
//! enclosed in double quotes, inner double quotes escaped with a backslash,
//! backslashes themselves not escaped).

use std::borrow::Cow;

use serde_json::json;

/// Inventory output format (InitiateJob `Format`, docs/protocol.md §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InventoryFormat {
    /// `application/json` (Glacier's default).
    #[default]
    Json,
    /// `text/csv`.
    Csv,
}

impl InventoryFormat {
    /// The name DescribeJob's `InventoryRetrievalParameters.Format` uses.
    pub fn name(self) -> &'static str {
        match self {
            InventoryFormat::Json => "JSON",
            InventoryFormat::Csv => "CSV",
        }
    }

    /// The `Content-Type` of the output (docs/protocol.md §2.2).
    pub fn content_type(self) -> &'static str {
        match self {
            InventoryFormat::Json => "application/json",
            InventoryFormat::Csv => "text/csv",
        }
    }
}

/// One archive in an inventory (docs/protocol.md §5.3 `ArchiveList` entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryEntry {
    /// `ArchiveId`.
    pub archive_id: String,
    /// `ArchiveDescription` (empty when the archive has none).
    pub description: String,
    /// `CreationDate`, ISO-8601 UTC.
    pub creation_date: String,
    /// `Size` in bytes.
    pub size: u64,
    /// `SHA256TreeHash`, lowercase hex (any text: a test may put moto's
    /// plain SHA-256 here, docs/protocol.md §11).
    pub tree_hash: String,
}

/// The JSON inventory: `{"VaultARN","InventoryDate","ArchiveList":[…]}`.
pub fn inventory_json(vault_arn: &str, inventory_date: &str, entries: &[InventoryEntry]) -> String {
    let list: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({
                "ArchiveId": e.archive_id,
                "ArchiveDescription": e.description,
                "CreationDate": e.creation_date,
                "Size": e.size,
                "SHA256TreeHash": e.tree_hash,
            })
        })
        .collect();
    json!({
        "VaultARN": vault_arn,
        "InventoryDate": inventory_date,
        "ArchiveList": list,
    })
    .to_string()
}

/// The CSV inventory: a header row, then one line per archive, `\n` line
/// ends; fields escaped with [`csv_field`].
pub fn inventory_csv(entries: &[InventoryEntry]) -> String {
    let mut out = String::from("ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n");
    for e in entries {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            csv_field(&e.archive_id),
            csv_field(&e.description),
            csv_field(&e.creation_date),
            e.size,
            csv_field(&e.tree_hash)
        ));
    }
    out
}

/// One CSV field the way Glacier writes it (docs/protocol.md §5.3): enclosed in double
/// quotes when it contains a comma or a double quote, each inner double
/// quote preceded by a backslash, backslashes left alone.
///
/// ```
/// use glacier_verify_loopback::csv_field;
/// assert_eq!(csv_field("plain"), "plain");
/// assert_eq!(csv_field(r#"my archive description,1"2"#), r#""my archive description,1\"2""#);
/// assert_eq!(csv_field(r#"my archive description,1\"2"#), r#""my archive description,1\\"2""#);
/// ```
pub fn csv_field(value: &str) -> Cow<'_, str> {
    if value.contains([',', '"']) {
        Cow::Owned(format!("\"{}\"", value.replace('"', "\\\"")))
    } else {
        Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(desc: &str) -> InventoryEntry {
        InventoryEntry {
            archive_id: "A1".into(),
            description: desc.into(),
            creation_date: "2012-05-15T17:19:46.700Z".into(),
            size: 2_140_123,
            tree_hash: "6b9d".into(),
        }
    }

    #[test]
    fn csv_rows() {
        let csv = inventory_csv(&[entry("plain"), entry("a,\"b\"")]);
        assert_eq!(
            csv,
            "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n\
             A1,plain,2012-05-15T17:19:46.700Z,2140123,6b9d\n\
             A1,\"a,\\\"b\\\"\",2012-05-15T17:19:46.700Z,2140123,6b9d\n"
        );
    }

    #[test]
    fn json_shape() {
        let text = inventory_json("arn:x", "2011-12-12T14:19:01Z", &[entry("d")]);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["VaultARN"], "arn:x");
        assert_eq!(v["ArchiveList"][0]["Size"], 2_140_123);
        assert_eq!(v["ArchiveList"][0]["ArchiveDescription"], "d");
    }
}
