//! What the AWS CLI prints for a Glacier operation's answer: the members
//! of the operation's output shape, in the order the Glacier API model
//! lists them, without the members that are `null` or absent and without
//! fields the model does not have — botocore parses a response into its
//! shape this way, from the model the AWS CLI ships
//! (`botocore/data/glacier/2012-06-01/service-2.json` in
//! <https://github.com/boto/botocore>). The members are those of the API
//! reference: Describe Job
//! (<https://docs.aws.amazon.com/amazonglacier/latest/dev/api-describe-job-get.html>),
//! Describe Vault
//! (<https://docs.aws.amazon.com/amazonglacier/latest/dev/api-vault-get.html>),
//! List Jobs, List Vaults, Get Data Retrieval Policy, List Provisioned
//! Capacity and Initiate Job.

use serde_json::{Map, Value};

/// A part of an output shape.
#[derive(Debug)]
enum Shape {
    /// A string, number or boolean — or a structure this tool does not
    /// describe member by member (`SelectParameters`, `OutputLocation`):
    /// kept as it came, without its `null` members.
    Any,
    /// A structure: its members in the model's order.
    Structure(&'static [(&'static str, Shape)]),
    /// A list of one shape.
    List(&'static Shape),
}

use Shape::{Any, List, Structure};

const INVENTORY_RETRIEVAL_PARAMETERS: Shape = Structure(&[
    ("Format", Any),
    ("StartDate", Any),
    ("EndDate", Any),
    ("Limit", Any),
    ("Marker", Any),
]);

const GLACIER_JOB_DESCRIPTION: Shape = Structure(&[
    ("JobId", Any),
    ("JobDescription", Any),
    ("Action", Any),
    ("ArchiveId", Any),
    ("VaultARN", Any),
    ("CreationDate", Any),
    ("Completed", Any),
    ("StatusCode", Any),
    ("StatusMessage", Any),
    ("ArchiveSizeInBytes", Any),
    ("InventorySizeInBytes", Any),
    ("SNSTopic", Any),
    ("CompletionDate", Any),
    ("SHA256TreeHash", Any),
    ("ArchiveSHA256TreeHash", Any),
    ("RetrievalByteRange", Any),
    ("Tier", Any),
    (
        "InventoryRetrievalParameters",
        INVENTORY_RETRIEVAL_PARAMETERS,
    ),
    ("JobOutputPath", Any),
    ("SelectParameters", Any),
    ("OutputLocation", Any),
]);

const DESCRIBE_VAULT_OUTPUT: Shape = Structure(&[
    ("VaultARN", Any),
    ("VaultName", Any),
    ("CreationDate", Any),
    ("LastInventoryDate", Any),
    ("NumberOfArchives", Any),
    ("SizeInBytes", Any),
]);

const LIST_JOBS_OUTPUT: Shape =
    Structure(&[("JobList", List(&GLACIER_JOB_DESCRIPTION)), ("Marker", Any)]);

const LIST_VAULTS_OUTPUT: Shape =
    Structure(&[("VaultList", List(&DESCRIBE_VAULT_OUTPUT)), ("Marker", Any)]);

const DATA_RETRIEVAL_RULE: Shape = Structure(&[("Strategy", Any), ("BytesPerHour", Any)]);

const GET_DATA_RETRIEVAL_POLICY_OUTPUT: Shape = Structure(&[(
    "Policy",
    Structure(&[("Rules", List(&DATA_RETRIEVAL_RULE))]),
)]);

const PROVISIONED_CAPACITY_DESCRIPTION: Shape = Structure(&[
    ("CapacityId", Any),
    ("StartDate", Any),
    ("ExpirationDate", Any),
]);

const LIST_PROVISIONED_CAPACITY_OUTPUT: Shape = Structure(&[(
    "ProvisionedCapacityList",
    List(&PROVISIONED_CAPACITY_DESCRIPTION),
)]);

const INITIATE_JOB_OUTPUT: Shape =
    Structure(&[("location", Any), ("jobId", Any), ("jobOutputPath", Any)]);

/// The output shape of a Glacier operation; `None` for a document of this
/// tool's own (the `get-job-output` and `verify` reports), printed as made.
fn output_shape(operation: &str) -> Option<&'static Shape> {
    Some(match operation {
        "DescribeJob" => &GLACIER_JOB_DESCRIPTION,
        "ListJobs" => &LIST_JOBS_OUTPUT,
        "ListVaults" => &LIST_VAULTS_OUTPUT,
        "DescribeVault" => &DESCRIBE_VAULT_OUTPUT,
        "GetDataRetrievalPolicy" => &GET_DATA_RETRIEVAL_POLICY_OUTPUT,
        "ListProvisionedCapacity" => &LIST_PROVISIONED_CAPACITY_OUTPUT,
        "InitiateJob" => &INITIATE_JOB_OUTPUT,
        _ => return None,
    })
}

/// Whether `operation`'s answer is put in a shape before it is printed
/// (an AWS answer is; our own documents are printed as made).
pub fn reshapes(operation: &str) -> bool {
    output_shape(operation).is_some()
}

/// `answer` as the AWS CLI prints it for `operation`.
pub fn as_aws_cli_prints(operation: &str, answer: Value) -> Value {
    match output_shape(operation) {
        Some(shape) => parse(shape, answer),
        None => answer,
    }
}

fn parse(shape: &Shape, v: Value) -> Value {
    match (shape, v) {
        (Structure(members), Value::Object(mut m)) => {
            let mut out = Map::new();
            for (name, member) in *members {
                match m.remove(*name) {
                    None | Some(Value::Null) => {}
                    Some(x) => {
                        out.insert((*name).to_owned(), parse(member, x));
                    }
                }
            }
            Value::Object(out)
        }
        (List(member), Value::Array(items)) => {
            Value::Array(items.into_iter().map(|x| parse(member, x)).collect())
        }
        (_, other) => without_nulls(other),
    }
}

/// `v` without the `null` members of its objects, at any depth.
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k, without_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    #[test]
    fn a_job_description_in_the_models_order_without_nulls() {
        // As Glacier sends an inventory job: alphabetical, with nulls.
        let answer = json!({
            "Action": "InventoryRetrieval", "ArchiveId": null, "ArchiveSHA256TreeHash": null,
            "ArchiveSizeInBytes": null, "Completed": true, "CompletionDate": "2012-05-15T17:21:39.339Z",
            "CreationDate": "2012-05-15T17:21:39.339Z", "InventoryRetrievalParameters":
                {"EndDate": null, "Format": "CSV", "Limit": null, "Marker": null, "StartDate": null},
            "InventorySizeInBytes": 2013, "JobDescription": "My ArchiveRetrieval Job",
            "JobId": "J", "RetrievalByteRange": null, "SHA256TreeHash": null, "SNSTopic": null,
            "StatusCode": "Succeeded", "StatusMessage": "Succeeded", "Tier": "Bulk",
            "VaultARN": "arn:aws:glacier:us-west-2:012345678901:vaults/examplevault",
            "SomethingNew": 1
        });
        let printed = as_aws_cli_prints("DescribeJob", answer);
        assert_eq!(
            keys(&printed),
            [
                "JobId",
                "JobDescription",
                "Action",
                "VaultARN",
                "CreationDate",
                "Completed",
                "StatusCode",
                "StatusMessage",
                "InventorySizeInBytes",
                "CompletionDate",
                "Tier",
                "InventoryRetrievalParameters"
            ]
        );
        assert_eq!(
            printed["InventoryRetrievalParameters"],
            json!({"Format": "CSV"})
        );
    }

    #[test]
    fn lists_and_nested_structures() {
        let printed = as_aws_cli_prints(
            "ListJobs",
            json!({"Marker": null, "JobList": [{"StatusCode": "Failed", "JobId": "a"}]}),
        );
        assert_eq!(keys(&printed), ["JobList"]);
        assert_eq!(keys(&printed["JobList"][0]), ["JobId", "StatusCode"]);
        let printed = as_aws_cli_prints(
            "ListVaults",
            json!({"VaultList": [{"SizeInBytes": 1, "VaultName": "v", "LastInventoryDate": null}], "Marker": "m"}),
        );
        assert_eq!(keys(&printed), ["VaultList", "Marker"]);
        assert_eq!(keys(&printed["VaultList"][0]), ["VaultName", "SizeInBytes"]);
        let printed = as_aws_cli_prints(
            "GetDataRetrievalPolicy",
            json!({"Policy": {"Rules": [{"BytesPerHour": null, "Strategy": "FreeTier"}]}}),
        );
        assert_eq!(
            printed,
            json!({"Policy": {"Rules": [{"Strategy": "FreeTier"}]}})
        );
        let printed = as_aws_cli_prints(
            "ListProvisionedCapacity",
            json!({"ProvisionedCapacityList": [{"ExpirationDate": "e", "StartDate": "s", "CapacityId": "c"}]}),
        );
        assert_eq!(
            keys(&printed["ProvisionedCapacityList"][0]),
            ["CapacityId", "StartDate", "ExpirationDate"]
        );
        let printed = as_aws_cli_prints("InitiateJob", json!({"jobId": "J", "location": "/l"}));
        assert_eq!(keys(&printed), ["location", "jobId"]);
    }

    #[test]
    fn select_parameters_are_kept_without_their_nulls() {
        let printed = as_aws_cli_prints(
            "DescribeJob",
            json!({"JobId": "J", "SelectParameters": {"Expression": "select *", "InputSerialization": {"csv": {"Comments": null}}}}),
        );
        assert_eq!(
            printed["SelectParameters"],
            json!({"Expression": "select *", "InputSerialization": {"csv": {}}})
        );
    }

    #[test]
    fn our_own_documents_are_printed_as_made() {
        let report = json!({"status": 200, "outfile": null});
        assert_eq!(as_aws_cli_prints("GetJobOutput", report.clone()), report);
    }
}
