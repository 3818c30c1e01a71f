//! Turns a validated `ListQuery` into SQL: WHERE clause with bound parameters, ORDER BY, LIMIT/OFFSET.
//! Column names are the documented field names, so a field that passed `ListSpec` validation is a
//! column; values are always bound, never spliced.

use crate::store::db::types::Value;
use tenantscope_model::api::{FilterKind, FilterSpec, ListQuery, ListSpec, SortOrder};
use tenantscope_model::{time, AgentState, HealthVerdict};

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

/// The SQL value a filter value is compared as (codes for keys, 0/1 for booleans), or None if it
/// cannot match anything.
pub fn filter_value(filter: FilterSpec, value: &str) -> Option<Value> {
    Some(match filter.kind {
        FilterKind::Text | FilterKind::Member => Value::Text(value.to_string()),
        FilterKind::Int => Value::Integer(value.parse().ok()?),
        FilterKind::Bool => Value::Integer(match value {
            "true" => 1,
            "false" => 0,
            _ => return None,
        }),
        FilterKind::Verdict => Value::Integer(HealthVerdict::from_key(value)?.code()),
        FilterKind::Agent => Value::Integer(AgentState::from_key(value)?.code()),
        FilterKind::From | FilterKind::To => Value::Text(time::format_rfc3339(time::parse_rfc3339(value)?)),
        FilterKind::Range => return None,
    })
}

/// One filter with its values (any of them) as a condition and its bound parameters; None when the
/// values select everything (true and false together).
pub fn filter_sql(filter: FilterSpec, values: &[&str]) -> Option<(String, Vec<Value>)> {
    let mut bound: Vec<Value> = values.iter().filter_map(|v| filter_value(filter, v)).collect();
    bound.dedup();
    let expr = filter.sql;
    match filter.kind {
        FilterKind::Bool => {
            let (yes, no) = (bound.contains(&Value::Integer(1)), bound.contains(&Value::Integer(0)));
            if yes == no {
                return None;
            }
            Some((if yes { format!("({expr})") } else { format!("NOT ({expr})") }, Vec::new()))
        }
        FilterKind::Member => Some((
            format!(
                "id IN (SELECT m.device FROM collection_members m JOIN collections c ON c.id = m.collection \
                 WHERE c.CollectionId IN ({}))",
                placeholders(bound.len())
            ),
            bound,
        )),
        // Resolved into a `from` bound by the route (`resolve_ranges`) before the query gets here.
        FilterKind::Range => None,
        // Several bounds: the latest `from`, the earliest `to`.
        FilterKind::From => {
            let latest = bound.into_iter().max_by(|a, b| text_of(a).cmp(text_of(b)))?;
            Some((format!("{expr} >= ?"), vec![latest]))
        }
        FilterKind::To => {
            let earliest = bound.into_iter().min_by(|a, b| text_of(a).cmp(text_of(b)))?;
            Some((format!("{expr} < ?"), vec![earliest]))
        }
        _ if bound.is_empty() => Some(("1 = 0".to_string(), Vec::new())),
        _ => Some((format!("{expr} IN ({})", placeholders(bound.len())), bound)),
    }
}

fn text_of(v: &Value) -> &str {
    match v {
        Value::Text(t) => t,
        _ => "",
    }
}

/// Replaces `range` filters with the `from` bound of the range's window ending at `now`.
pub fn resolve_ranges(spec: &ListSpec, query: &mut ListQuery, now: i64) {
    let Some(from) = spec.filters.iter().find(|f| f.kind == FilterKind::From) else { return };
    let starts: Vec<String> = query
        .filters
        .iter()
        .filter(|(f, _)| spec.filter(f).is_some_and(|s| s.kind == FilterKind::Range))
        .filter_map(|(_, v)| tenantscope_model::api::TimeRange::from_key(v))
        .map(|range| time::format_rfc3339(range.window(now).0))
        .collect();
    query.filters.extend(starts.into_iter().map(|start| (from.name.to_string(), start)));
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
        if let Some((condition, values)) = filter_sql(filter, &values) {
            conditions.push(condition);
            params.extend(values);
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
    // Empty values first going up, last going down (SQLite's order; PostgreSQL's is the reverse).
    let (dir, nulls) = match query.order {
        SortOrder::Asc => ("ASC", "NULLS FIRST"),
        SortOrder::Desc => ("DESC", "NULLS LAST"),
    };
    // `sort` passed validation against spec.sortable, so it is a column name.
    let order_by = format!("ORDER BY {} {dir} {nulls}, id {dir}", query.sort);
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
        assert_eq!(sql.order_by, "ORDER BY Name ASC NULLS FIRST, id ASC");
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
            "WHERE DeviceOS IN (?, ?) AND DefenderHealth IN (?) AND (ActiveThreats > 0) AND \
             (Name LIKE ? ESCAPE '\\' OR SerialNumber LIKE ? ESCAPE '\\' OR AADDeviceID LIKE ? ESCAPE '\\' OR Model LIKE ? ESCAPE '\\')"
        );
        assert_eq!(sql.params[0], Value::Text("A".into()));
        assert_eq!(sql.params[1], Value::Text("B".into()));
        assert_eq!(sql.params[2], Value::Integer(1));
        assert_eq!(sql.params[3], Value::Text("%50\\%\\_x%".into()));
        assert_eq!(sql.params.len(), 7);
        assert_eq!(sql.order_by, "ORDER BY Model DESC NULLS LAST, id DESC");
        assert_eq!((sql.limit, sql.offset), (25, 50));
    }

    #[test]
    fn active_and_collection_filters() {
        let sql = build_list(&THREATS, &q(&THREATS, &[("Active", "false"), ("Severity", "5")]));
        assert_eq!(sql.where_clause, "WHERE NOT (CurrentStatus NOT IN (5, 6, 7, 8, 9, 10)) AND Severity IN (?)");
        let both = build_list(&THREATS, &q(&THREATS, &[("Active", "false"), ("Active", "true")]));
        assert_eq!(both.where_clause, "");
        let window = build_list(
            &THREATS,
            &q(&THREATS, &[("from", "2026-11-20T00:00:00Z"), ("to", "2026-11-21T00:00:00+00:00"), ("from", "2026-11-19T00:00:00Z")]),
        );
        assert_eq!(window.where_clause, "WHERE InitialDetectionTime >= ? AND InitialDetectionTime < ?");
        assert_eq!(window.params, vec![Value::Text("2026-11-20T00:00:00Z".into()), Value::Text("2026-11-21T00:00:00Z".into())]);
        let agent = build_list(&DEVICES, &q(&DEVICES, &[("AgentState", "rtp_off"), ("HasActiveThreats", "true")]));
        assert_eq!(agent.where_clause, "WHERE AgentState IN (?) AND (ActiveThreats > 0)");
        assert_eq!(agent.params, vec![Value::Integer(AgentState::RtpOff.code())]);
        let sql = build_list(&DEVICES, &q(&DEVICES, &[("CollectionId", "ABC00014")]));
        assert!(sql.where_clause.contains("c.CollectionId IN (?)"));
    }
}
