//! Request bodies (spec §4.3): `{"request_data":{filters, sort, search_from, search_to}}`.
//!
//! Only the filter fields, operators and sort fields of §4.3 are accepted; anything else is a
//! 400 naming the key. A time filter whose value is `0` (or missing) is the vendor's HTTP 500
//! `"value param is missing"`.

use serde_json::{Map, Value};

/// Largest page the API serves.
pub(crate) const MAX_PAGE: u64 = 100;

/// The three vendor endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `POST /public_api/v1/alerts/get_alerts`
    Alerts,
    /// `POST /public_api/v2/alerts/get_alerts_multi_events`
    AlertsMulti,
    /// `POST /public_api/v1/incidents/get_incidents`
    Incidents,
}

impl Endpoint {
    /// The endpoint at `path`.
    pub(crate) fn from_path(path: &str) -> Option<Self> {
        match path {
            "/public_api/v1/alerts/get_alerts" => Some(Self::Alerts),
            "/public_api/v2/alerts/get_alerts_multi_events" => Some(Self::AlertsMulti),
            "/public_api/v1/incidents/get_incidents" => Some(Self::Incidents),
            _ => None,
        }
    }

    /// Stream name as `--source` and the oracle spell it.
    pub(crate) fn stream(self) -> &'static str {
        match self {
            Self::Alerts | Self::AlertsMulti => "alerts",
            Self::Incidents => "incidents",
        }
    }
}

/// A filterable field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    AlertIdList,
    AlertSource,
    Severity,
    CreationTime,
    ServerCreationTime,
    IncidentIdList,
    ModificationTime,
    Status,
}

/// One filter condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    In(Vec<String>),
    Eq(String),
    Neq(String),
    Gte(i64),
    Lte(i64),
}

/// `{field, operator, value}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter {
    pub(crate) field: Field,
    pub(crate) cond: Cond,
}

/// A sortable field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortField {
    CreationTime,
    Severity,
    ModificationTime,
}

/// `{"field": ..., "keyword": "asc"|"desc"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sort {
    pub(crate) field: SortField,
    pub(crate) desc: bool,
}

/// A validated request.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub(crate) filters: Vec<Filter>,
    pub(crate) sort: Option<Sort>,
    pub(crate) from: u64,
    pub(crate) to: u64,
    /// Identifies "the same window" across pages: endpoint + filters + sort.
    pub(crate) window_key: String,
}

/// A rejected body: status (400, or 500 for a zero time value) and message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BodyError {
    pub(crate) status: u16,
    pub(crate) message: String,
}

fn bad(message: impl Into<String>) -> BodyError {
    BodyError {
        status: 400,
        message: message.into(),
    }
}

fn field_of(ep: Endpoint, name: &str) -> Option<(Field, &'static [&'static str])> {
    const IN: &[&str] = &["in"];
    const RANGE: &[&str] = &["gte", "lte"];
    const STATUS: &[&str] = &["eq", "neq", "in"];
    match (ep, name) {
        (Endpoint::Incidents, "incident_id_list") => Some((Field::IncidentIdList, IN)),
        (Endpoint::Incidents, "modification_time") => Some((Field::ModificationTime, RANGE)),
        (Endpoint::Incidents, "creation_time") => Some((Field::CreationTime, RANGE)),
        (Endpoint::Incidents, "status") => Some((Field::Status, STATUS)),
        (Endpoint::Incidents, _) => None,
        (_, "alert_id_list") => Some((Field::AlertIdList, IN)),
        (_, "alert_source") => Some((Field::AlertSource, IN)),
        (_, "severity") => Some((Field::Severity, IN)),
        (_, "creation_time") => Some((Field::CreationTime, RANGE)),
        (_, "server_creation_time") => Some((Field::ServerCreationTime, RANGE)),
        _ => None,
    }
}

fn allowed_fields(ep: Endpoint) -> &'static str {
    match ep {
        Endpoint::Incidents => {
            "incident_id_list (in), modification_time (gte/lte), creation_time (gte/lte), status (eq/neq/in)"
        }
        _ => {
            "alert_id_list (in), alert_source (in), severity (in), creation_time (gte/lte), server_creation_time (gte/lte)"
        }
    }
}

fn list_value(i: usize, v: Option<&Value>) -> Result<Vec<String>, BodyError> {
    let items = v.and_then(Value::as_array).ok_or_else(|| {
        bad(format!(
            "filters[{i}]: operator \"in\" needs a non-empty list value"
        ))
    })?;
    if items.is_empty() {
        return Err(bad(format!("filters[{i}]: the \"in\" list is empty")));
    }
    items
        .iter()
        .map(|x| match x {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
            _ => Err(bad(format!(
                "filters[{i}]: \"in\" list items must be strings or integers"
            ))),
        })
        .collect()
}

fn parse_filter(ep: Endpoint, i: usize, f: &Value) -> Result<Filter, BodyError> {
    let obj = f.as_object().ok_or_else(|| {
        bad(format!(
            "filters[{i}] must be an object {{field, operator, value}}"
        ))
    })?;
    if let Some(k) = obj
        .keys()
        .find(|k| !["field", "operator", "value"].contains(&k.as_str()))
    {
        return Err(bad(format!(
            "filters[{i}]: unknown key {k:?}; a filter is {{field, operator, value}}"
        )));
    }
    let name = obj
        .get("field")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("filters[{i}]: \"field\" must be a string")))?;
    let (field, ops) = field_of(ep, name).ok_or_else(|| {
        bad(format!(
            "filters[{i}]: field {name:?} cannot be filtered on here; allowed: {}",
            allowed_fields(ep)
        ))
    })?;
    let op = obj
        .get("operator")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| bad(format!("filters[{i}]: \"operator\" must be a string")))?;
    if !ops.contains(&op.as_str()) {
        return Err(bad(format!(
            "filters[{i}]: operator {op:?} is not valid for {name}; use {}",
            ops.join(" or ")
        )));
    }
    let value = obj.get("value").filter(|v| !v.is_null());
    let cond = match op.as_str() {
        "in" => Cond::In(list_value(i, value)?),
        "eq" | "neq" => {
            let s = value
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("filters[{i}]: {name} {op} needs a string value")))?;
            if op == "eq" {
                Cond::Eq(s.to_owned())
            } else {
                Cond::Neq(s.to_owned())
            }
        }
        _ => {
            let t = match value {
                None => None,
                Some(v) => Some(v.as_i64().filter(|_| v.is_i64() || v.is_u64()).ok_or_else(
                    || {
                        bad(format!(
                            "filters[{i}]: {name} needs an integer epoch-ms value"
                        ))
                    },
                )?),
            };
            let t = match t {
                None | Some(0) => {
                    return Err(BodyError {
                        status: 500,
                        message: "value param is missing".to_owned(),
                    });
                }
                Some(t) if t < 0 => {
                    return Err(bad(format!(
                        "filters[{i}]: {name} value {t} is negative; send epoch milliseconds"
                    )));
                }
                Some(t) => t,
            };
            if op == "gte" {
                Cond::Gte(t)
            } else {
                Cond::Lte(t)
            }
        }
    };
    Ok(Filter { field, cond })
}

fn parse_sort(ep: Endpoint, v: &Value) -> Result<Sort, BodyError> {
    let obj = v.as_object().ok_or_else(|| {
        bad("sort must be an object {\"field\":...,\"keyword\":\"asc\"|\"desc\"}")
    })?;
    if let Some(k) = obj
        .keys()
        .find(|k| !["field", "keyword"].contains(&k.as_str()))
    {
        return Err(bad(format!(
            "sort: unknown key {k:?}; use field and keyword"
        )));
    }
    let name = obj.get("field").and_then(Value::as_str).unwrap_or_default();
    let field = match (ep, name) {
        (Endpoint::Incidents, "modification_time") => SortField::ModificationTime,
        (Endpoint::Incidents, "creation_time") => SortField::CreationTime,
        (Endpoint::Incidents, _) => {
            return Err(bad(format!(
                "sort field {name:?} is not supported; use modification_time or creation_time"
            )));
        }
        (_, "creation_time") => SortField::CreationTime,
        (_, "severity") => SortField::Severity,
        _ => {
            return Err(bad(format!(
                "sort field {name:?} is not supported; use creation_time or severity"
            )));
        }
    };
    let desc = match obj
        .get("keyword")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("asc") => false,
        Some("desc") => true,
        _ => return Err(bad("sort.keyword must be \"asc\" or \"desc\"")),
    };
    Ok(Sort { field, desc })
}

fn offset(rd: &Map<String, Value>, key: &str) -> Result<Option<u64>, BodyError> {
    match rd.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n < 0 => Err(bad(format!("{key} must not be negative (got {n})"))),
            Some(n) if v.is_i64() || v.is_u64() => Ok(Some(n as u64)),
            _ => Err(bad(format!("{key} must be a non-negative integer"))),
        },
    }
}

/// Parses and validates a body for `ep`. `clamp` turns an oversized page into 100 records.
pub(crate) fn parse(ep: Endpoint, body: &[u8], clamp: bool) -> Result<Query, BodyError> {
    let root: Value = serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "body is not JSON ({e}); send {{\"request_data\":{{...}}}}"
        ))
    })?;
    let rd = root
        .get("request_data")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("missing request_data object; send {\"request_data\":{...}}"))?;
    if let Some(k) = rd
        .keys()
        .find(|k| !["filters", "sort", "search_from", "search_to"].contains(&k.as_str()))
    {
        return Err(bad(format!(
            "request_data: unknown key {k:?}; use filters, sort, search_from, search_to"
        )));
    }
    let filters = match rd.get("filters") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, f)| parse_filter(ep, i, f))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("request_data.filters must be a list")),
    };
    let sort = match rd.get("sort") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_sort(ep, v)?),
    };
    let from = offset(rd, "search_from")?.unwrap_or(0);
    let mut to = offset(rd, "search_to")?.unwrap_or(from + MAX_PAGE);
    if to < from {
        return Err(bad(format!(
            "search_to ({to}) is smaller than search_from ({from})"
        )));
    }
    if to - from > MAX_PAGE {
        if clamp {
            to = from + MAX_PAGE;
        } else {
            return Err(bad(format!(
                "search_to - search_from is {} but the maximum result set is {MAX_PAGE}",
                to - from
            )));
        }
    }
    let window_key = format!(
        "{ep:?}|{}|{}",
        rd.get("filters").cloned().unwrap_or(Value::Null),
        rd.get("sort").cloned().unwrap_or(Value::Null)
    );
    Ok(Query {
        filters,
        sort,
        from,
        to,
        window_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ep: Endpoint, s: &str) -> Result<Query, BodyError> {
        parse(ep, s.as_bytes(), false)
    }

    #[test]
    fn reference_body_parses_and_errors_are_specific() {
        let q = p(
            Endpoint::Alerts,
            r#"{"request_data": {"sort": {"field": "creation_time", "keyword": "asc"}, "filters": [{"field": "creation_time", "operator": "gte", "value": 1795253012987}], "search_from": 0, "search_to": 100}}"#,
        )
        .unwrap();
        assert_eq!((q.from, q.to), (0, 100));
        assert_eq!(q.filters[0].cond, Cond::Gte(1_795_253_012_987));
        let zero = p(
            Endpoint::Alerts,
            r#"{"request_data":{"filters":[{"field":"server_creation_time","operator":"gte","value":0}]}}"#,
        )
        .unwrap_err();
        assert_eq!(zero.status, 500);
        assert_eq!(zero.message, "value param is missing");
        assert_eq!(p(Endpoint::Alerts, "{}").unwrap_err().status, 400);
        let big = r#"{"request_data":{"search_from":0,"search_to":101}}"#;
        assert_eq!(p(Endpoint::Alerts, big).unwrap_err().status, 400);
        assert_eq!(
            parse(Endpoint::Alerts, big.as_bytes(), true).unwrap().to,
            100
        );
        let e = p(
            Endpoint::Incidents,
            r#"{"request_data":{"filters":[{"field":"severity","operator":"in","value":["low"]}]}}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("severity"), "{e:?}");
        let e = p(
            Endpoint::Incidents,
            r#"{"request_data":{"sort":{"field":"severity","keyword":"asc"}}}"#,
        )
        .unwrap_err();
        assert_eq!(e.status, 400);
        assert!(p(Endpoint::Alerts, r#"{"request_data":{"search_from":-1}}"#).is_err());
    }
}
