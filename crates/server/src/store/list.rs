//! Turns a validated `ListQuery` into SQL: WHERE clause with bound parameters, ORDER BY, LIMIT/OFFSET.
//! Column names are the documented field names, so a field that passed `ListSpec` validation is a
//! column; values are always bound, never spliced.

use rusqlite::types::Value;
use tenantscope_model::api::{FilterKind, ListQuery, ListSpec, SortOrder};
use tenantscope_model::{HealthVerdict, ThreatState};

#[derive(Debug, Clone, PartialEq)]
pub struct ListSql {
    /// `WHERE ...` or empty.
    pub where_clause: String,
    pub params: Vec<Value>,
    /// `ORDER BY ...` with the row id as tie-breaker so that pages never overlap.
    pub order_by: String,
    pub limit: i64,
    pub offset: i64,
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn like_contains(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

pub fn build_list(spec: &ListSpec, query: &ListQuery) -> ListSql {
    let mut conditions: Vec<String> = Vec::new();
    let mut params: Vec<Value> = Vec::new();

    // Group repeated filters: the same field more than once means any of its values.
    let mut fields: Vec<&str> = Vec::new();
    for (field, _) in &query.filters {
        if !fields.contains(&field.as_str()) {
            fields.push(field);
        }
    }
    for field in fields {
        let Some(filter) = spec.filter(field) else { continue };
        let values: Vec<&str> =
            query.filters.iter().filter(|(f, _)| f == field).map(|(_, v)| v.as_str()).collect();
        match (spec.name, field, filter.kind) {
            ("devices", "HasActiveThreats", _) | ("threats", "Active", _) => {
                // Contradicting values (true and false) select everything.
                let want_true = values.contains(&"true");
                let want_false = values.contains(&"false");
                if want_true != want_false {
                    let active = if spec.name == "devices" {
                        "ActiveThreats > 0".to_string()
                    } else {
                        let codes: Vec<String> = ThreatState::ACTIVE_CODES.iter().map(|c| c.to_string()).collect();
                        format!("CurrentStatus IN ({})", codes.join(", "))
                    };
                    conditions.push(if want_true { active } else { format!("NOT ({active})") });
                }
            }
            ("devices", "CollectionId", _) => {
                conditions.push(format!(
                    "id IN (SELECT m.device FROM collection_members m JOIN collections c ON c.id = m.collection \
                     WHERE c.CollectionId IN ({}))",
                    placeholders(values.len())
                ));
                params.extend(values.iter().map(|v| Value::Text(v.to_string())));
            }
            (_, _, FilterKind::Verdict) => {
                conditions.push(format!("{field} IN ({})", placeholders(values.len())));
                params.extend(
                    values.iter().filter_map(|v| HealthVerdict::from_key(v)).map(|v| Value::Integer(v.code())),
                );
            }
            (_, _, FilterKind::Int) => {
                conditions.push(format!("{field} IN ({})", placeholders(values.len())));
                params.extend(values.iter().filter_map(|v| v.parse::<i64>().ok()).map(Value::Integer));
            }
            (_, _, FilterKind::Bool) => {
                let want_true = values.contains(&"true");
                let want_false = values.contains(&"false");
                if want_true != want_false {
                    conditions.push(format!("{field} = {}", i64::from(want_true)));
                }
            }
            (_, _, FilterKind::Text) => {
                conditions.push(format!("{field} IN ({})", placeholders(values.len())));
                params.extend(values.iter().map(|v| Value::Text(v.to_string())));
            }
        }
    }

    if let Some(q) = &query.q {
        let ors: Vec<String> = spec.searchable.iter().map(|f| format!("{f} LIKE ? ESCAPE '\\'")).collect();
        conditions.push(format!("({})", ors.join(" OR ")));
        let pattern = like_contains(q);
        params.extend(spec.searchable.iter().map(|_| Value::Text(pattern.clone())));
    }

    let where_clause =
        if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let dir = match query.order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    };
    // `sort` passed validation against spec.sortable, so it is a column name.
    let order_by = format!("ORDER BY {} {dir}, id {dir}", query.sort);
    let limit = query.page_size as i64;
    let offset = (query.page as i64 - 1) * limit;
    ListSql { where_clause, params, order_by, limit, offset }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenantscope_model::api::{DEVICES, THREATS};

    fn q(spec: &ListSpec, pairs: &[(&str, &str)]) -> ListQuery {
        let pairs: Vec<_> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ListQuery::parse(spec, &pairs).unwrap()
    }

    #[test]
    fn default_query_has_no_where() {
        let sql = build_list(&DEVICES, &q(&DEVICES, &[]));
        assert_eq!(sql.where_clause, "");
        assert_eq!(sql.order_by, "ORDER BY Name ASC, id ASC");
        assert_eq!((sql.limit, sql.offset), (50, 0));
    }

    #[test]
    fn filters_search_and_paging() {
        let sql = build_list(
            &DEVICES,
            &q(
                &DEVICES,
                &[
                    ("DeviceOS", "A"),
                    ("DefenderHealth", "at_risk"),
                    ("DeviceOS", "B"),
                    ("HasActiveThreats", "true"),
                    ("q", "50%_x"),
                    ("page", "3"),
                    ("page_size", "25"),
                    ("sort", "Model"),
                    ("order", "desc"),
                ],
            ),
        );
        assert_eq!(
            sql.where_clause,
            "WHERE DeviceOS IN (?, ?) AND DefenderHealth IN (?) AND ActiveThreats > 0 AND \
             (Name LIKE ? ESCAPE '\\' OR SerialNumber LIKE ? ESCAPE '\\' OR AADDeviceID LIKE ? ESCAPE '\\' OR Model LIKE ? ESCAPE '\\')"
        );
        assert_eq!(sql.params[0], Value::Text("A".into()));
        assert_eq!(sql.params[1], Value::Text("B".into()));
        assert_eq!(sql.params[2], Value::Integer(1));
        assert_eq!(sql.params[3], Value::Text("%50\\%\\_x%".into()));
        assert_eq!(sql.params.len(), 7);
        assert_eq!(sql.order_by, "ORDER BY Model DESC, id DESC");
        assert_eq!((sql.limit, sql.offset), (25, 50));
    }

    #[test]
    fn active_and_collection_filters() {
        let sql = build_list(&THREATS, &q(&THREATS, &[("Active", "false"), ("Severity", "5")]));
        assert_eq!(sql.where_clause, "WHERE NOT (CurrentStatus IN (0, 1, 2, 3, 4)) AND Severity IN (?)");
        let both = build_list(&THREATS, &q(&THREATS, &[("Active", "false"), ("Active", "true")]));
        assert_eq!(both.where_clause, "");
        let sql = build_list(&DEVICES, &q(&DEVICES, &[("CollectionId", "ABC00014")]));
        assert!(sql.where_clause.contains("c.CollectionId IN (?)"));
    }
}
