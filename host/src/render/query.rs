//! `--query`: a JMESPath expression applied to the JSON document a command
//! produces, before it is formatted — as the AWS CLI does
//! (<https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-filter.html>,
//! grammar: <https://jmespath.org/specification.html>).
//!
//! The `jmespath` crate keeps objects in sorted maps, so a result comes back
//! with its keys sorted. The AWS CLI keeps the order of the document (and,
//! for a multi-select hash `{a: x, b: y}`, the order the expression names
//! them); [`Query::apply`] restores both orders, so `--output json` prints
//! keys as the AWS CLI does.

use std::collections::HashSet;

use jmespath::ast::Ast;
use serde_json::{Map, Value};

/// A JMESPath expression, checked when the command line is parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query(String);

impl Query {
    /// Checks `expression`; the error says what is wrong and where.
    pub fn parse(expression: &str) -> Result<Query, String> {
        jmespath::compile(expression)
            .map(|_| Query(expression.to_owned()))
            .map_err(|e| format!("not a JMESPath expression: {}", e.to_string().trim_end()))
    }

    /// The expression as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The expression's result on `doc`; an error is a runtime error of the
    /// expression (a function given the wrong type, …).
    pub fn apply(&self, doc: &Value) -> Result<Value, String> {
        let expr = jmespath::compile(&self.0).map_err(|e| e.to_string())?;
        let found = expr
            .search(doc)
            .map_err(|e| format!("--query {:?}: {}", self.0, e.to_string().trim_end()))?;
        let mut out = serde_json::to_value(&*found).map_err(|e| e.to_string())?;
        let mut orders = KeyOrders::default();
        orders.add_from_ast(expr.as_ast());
        orders.add_from_doc(doc);
        orders.restore(&mut out);
        Ok(out)
    }
}

/// Key orders seen in the expression and the document, first seen first.
#[derive(Default)]
struct KeyOrders {
    orders: Vec<Vec<String>>,
    seen: HashSet<Vec<String>>,
}

impl KeyOrders {
    fn add(&mut self, keys: Vec<String>) {
        if self.seen.insert(keys.clone()) {
            self.orders.push(keys);
        }
    }

    /// The keys of every multi-select hash, in the order written.
    fn add_from_ast(&mut self, ast: &Ast) {
        match ast {
            Ast::MultiHash { elements, .. } => {
                self.add(elements.iter().map(|kv| kv.key.clone()).collect());
                for kv in elements {
                    self.add_from_ast(&kv.value);
                }
            }
            Ast::Comparison { lhs, rhs, .. }
            | Ast::Projection { lhs, rhs, .. }
            | Ast::And { lhs, rhs, .. }
            | Ast::Or { lhs, rhs, .. }
            | Ast::Subexpr { lhs, rhs, .. } => {
                self.add_from_ast(lhs);
                self.add_from_ast(rhs);
            }
            Ast::Condition {
                predicate, then, ..
            } => {
                self.add_from_ast(predicate);
                self.add_from_ast(then);
            }
            Ast::Expref { ast: node, .. }
            | Ast::Flatten { node, .. }
            | Ast::Not { node, .. }
            | Ast::ObjectValues { node, .. } => self.add_from_ast(node),
            Ast::Function { args: nodes, .. }
            | Ast::MultiList {
                elements: nodes, ..
            } => {
                for n in nodes {
                    self.add_from_ast(n);
                }
            }
            _ => {}
        }
    }

    /// The keys of every object of the document, in document order.
    fn add_from_doc(&mut self, doc: &Value) {
        match doc {
            Value::Object(m) => {
                self.add(m.keys().cloned().collect());
                m.values().for_each(|v| self.add_from_doc(v));
            }
            Value::Array(a) => a.iter().for_each(|v| self.add_from_doc(v)),
            _ => {}
        }
    }

    /// Puts the keys of every object of `v` in the first order recorded for
    /// exactly that set of keys (sorted, as found, when there is none).
    fn restore(&self, v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.values_mut().for_each(|v| self.restore(v));
                let same_keys =
                    |o: &&Vec<String>| o.len() == m.len() && o.iter().all(|k| m.contains_key(k));
                if let Some(order) = self.orders.iter().find(same_keys) {
                    let mut old = std::mem::take(m);
                    let mut sorted = Map::new();
                    for k in order {
                        if let Some(x) = old.remove(k) {
                            sorted.insert(k.clone(), x);
                        }
                    }
                    *m = sorted;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|v| self.restore(v)),
            _ => {}
        }
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
    fn bad_expressions_are_refused_with_the_place() {
        let e = Query::parse("JobList[").unwrap_err();
        assert!(e.starts_with("not a JMESPath expression"), "{e}");
        assert!(e.contains("column"), "{e}");
        assert!(Query::parse("JobList[?StatusCode=='Succeeded'].JobId").is_ok());
    }

    #[test]
    fn fields_projections_and_filters() {
        let doc = json!({"JobList": [
            {"JobId": "a", "StatusCode": "Succeeded", "ArchiveSizeInBytes": 5},
            {"JobId": "b", "StatusCode": "InProgress"}
        ], "Marker": null});
        let q = |e: &str| Query::parse(e).unwrap().apply(&doc).unwrap();
        assert_eq!(q("JobList[].JobId"), json!(["a", "b"]));
        assert_eq!(
            q("JobList[?StatusCode=='Succeeded'].JobId | [0]"),
            json!("a")
        );
        assert_eq!(q("length(JobList)"), json!(2));
        assert_eq!(q("nothing"), Value::Null);
    }

    #[test]
    fn key_order_of_the_document_and_of_multiselect_hashes_is_kept() {
        // With preserve_order, the document keeps its (non-sorted) order.
        let doc = json!({"JobId": "a", "Action": "ArchiveRetrieval", "Completed": true});
        assert_eq!(keys(&doc), ["JobId", "Action", "Completed"]);
        let all = Query::parse("@").unwrap().apply(&doc).unwrap();
        assert_eq!(keys(&all), ["JobId", "Action", "Completed"]);
        let hash = Query::parse("{z: JobId, a: Action}")
            .unwrap()
            .apply(&doc)
            .unwrap();
        assert_eq!(keys(&hash), ["z", "a"]);
        assert_eq!(hash, json!({"z": "a", "a": "ArchiveRetrieval"}));
    }

    #[test]
    fn runtime_errors_are_errors() {
        let e = Query::parse("abs(JobId)")
            .unwrap()
            .apply(&json!({"JobId": "x"}))
            .unwrap_err();
        assert!(e.contains("abs(JobId)"), "{e}");
    }
}
