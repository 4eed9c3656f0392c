use serde_json::{Map, Value};

use super::json::{JsonStyle, write_members, write_str};
use super::transcode::write_object_members;
use crate::Record;

/// Where the discriminator goes inside the namespace object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscriminatorPosition {
    /// First key (Proofpoint, Cortex XDR).
    First,
    /// Last key (1Password), after the optional tenant.
    Last,
}

/// The `{"integration": …, "<ns>": {…}}` envelope of one connector.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// Value of the top-level `integration` key.
    pub integration: &'static str,
    /// The namespace key (`op`, `pp`, `xdr`).
    pub namespace: &'static str,
    /// The discriminator key inside the namespace (`event_type` or `type`).
    pub discriminator: &'static str,
    /// Where the discriminator goes.
    pub position: DiscriminatorPosition,
    /// Separators.
    pub style: JsonStyle,
    /// `<ns>.tenant` on every line, when set.
    pub tenant: Option<String>,
}

const TENANT: &str = "tenant";

impl Envelope {
    /// The key a vendor's own discriminator value moves to (`vendor_event_type`).
    pub fn vendor_discriminator_key(&self) -> String {
        format!("vendor_{}", self.discriminator)
    }

    /// Writes a vendor record: nulls dropped at every depth, the discriminator placed (a vendor
    /// value under the same key moves to `vendor_<key>` right after it), the tenant added
    /// unless the record already has that key. A raw record is shaped in one streaming pass
    /// unless it may hold the discriminator or tenant key (then it is parsed first): both paths
    /// write the same bytes.
    pub fn write_vendor(&self, event_type: &str, record: impl Into<Record>, out: &mut Vec<u8>) {
        let raw = match record.into() {
            Record::Object(map) => return self.write_vendor_object(event_type, map, out),
            Record::Raw(raw) => raw,
        };
        let text = raw.get();
        let may_collide = text.contains(&format!("\"{}\"", self.discriminator))
            || (self.tenant.is_some() && text.contains("\"tenant\""));
        let start = out.len();
        if may_collide || !self.write_raw(event_type, text, out) {
            out.truncate(start);
            let map = serde_json::from_str(text).unwrap_or_default();
            self.write_vendor_object(event_type, map, out);
        }
    }

    /// The streaming path; `false` if `text` is not an object.
    fn write_raw(&self, event_type: &str, text: &str, out: &mut Vec<u8>) -> bool {
        let (item_sep, key_sep) = (self.style.item_sep(), self.style.key_sep());
        self.write_prefix(out);
        out.push(b'{');
        let mut members = 0;
        if self.position == DiscriminatorPosition::First {
            write_str(out, self.discriminator);
            out.extend_from_slice(key_sep);
            write_str(out, event_type);
            members += 1;
        }
        let before = out.len();
        if members > 0 {
            out.extend_from_slice(item_sep);
        }
        match write_object_members(text, self.style, out) {
            None => return false,
            Some(0) => out.truncate(before),
            Some(n) => members += n,
        }
        let push = |out: &mut Vec<u8>, key: &str, value: &str, members: &mut usize| {
            if *members > 0 {
                out.extend_from_slice(item_sep);
            }
            write_str(out, key);
            out.extend_from_slice(key_sep);
            write_str(out, value);
            *members += 1;
        };
        if let Some(t) = &self.tenant {
            push(out, TENANT, t, &mut members);
        }
        if self.position == DiscriminatorPosition::Last {
            push(out, self.discriminator, event_type, &mut members);
        }
        out.extend_from_slice(b"}}");
        true
    }

    fn write_vendor_object(
        &self,
        event_type: &str,
        mut record: Map<String, Value>,
        out: &mut Vec<u8>,
    ) {
        record.retain(|_, v| drop_nulls(v));
        let event_type = Value::String(event_type.to_owned());
        let vendor_key = self.vendor_discriminator_key();
        let tenant = self
            .tenant
            .as_ref()
            .filter(|_| !record.contains_key(TENANT))
            .map(|t| Value::String(t.clone()));
        let mut members: Vec<(&str, &Value)> = Vec::with_capacity(record.len() + 3);
        if self.position == DiscriminatorPosition::First {
            members.push((self.discriminator, &event_type));
        }
        let mut collided = false;
        for (k, v) in &record {
            if k == self.discriminator {
                collided = true;
                if self.position == DiscriminatorPosition::Last {
                    if let Some(t) = &tenant {
                        members.push((TENANT, t));
                    }
                    members.push((self.discriminator, &event_type));
                }
                members.push((vendor_key.as_str(), v));
            } else {
                members.push((k.as_str(), v));
            }
        }
        match self.position {
            DiscriminatorPosition::Last if !collided => {
                if let Some(t) = &tenant {
                    members.push((TENANT, t));
                }
                members.push((self.discriminator, &event_type));
            }
            DiscriminatorPosition::First => {
                if let Some(t) = &tenant {
                    members.push((TENANT, t));
                }
            }
            DiscriminatorPosition::Last => {}
        }
        self.write_line(members.into_iter(), out);
    }

    /// Writes a siemtap-built record (error, summary): `fields` in order, then the tenant and
    /// the discriminator at the connector's position. Nulls are dropped.
    pub fn write_internal(
        &self,
        event_type: &str,
        mut fields: Map<String, Value>,
        out: &mut Vec<u8>,
    ) {
        fields.retain(|_, v| drop_nulls(v));
        let event_type = Value::String(event_type.to_owned());
        let tenant = self.tenant.as_ref().map(|t| Value::String(t.clone()));
        let mut members: Vec<(&str, &Value)> = Vec::with_capacity(fields.len() + 2);
        if self.position == DiscriminatorPosition::First {
            members.push((self.discriminator, &event_type));
        }
        members.extend(fields.iter().map(|(k, v)| (k.as_str(), v)));
        if let Some(t) = &tenant {
            members.push((TENANT, t));
        }
        if self.position == DiscriminatorPosition::Last {
            members.push((self.discriminator, &event_type));
        }
        self.write_line(members.into_iter(), out);
    }

    /// `{"integration": NAME, "<ns>": ` in this envelope's style.
    fn write_prefix(&self, out: &mut Vec<u8>) {
        let (item_sep, key_sep) = (self.style.item_sep(), self.style.key_sep());
        out.extend_from_slice(b"{\"integration\"");
        out.extend_from_slice(key_sep);
        write_str(out, self.integration);
        out.extend_from_slice(item_sep);
        write_str(out, self.namespace);
        out.extend_from_slice(key_sep);
    }

    fn write_line<'a>(
        &self,
        members: impl Iterator<Item = (&'a str, &'a Value)>,
        out: &mut Vec<u8>,
    ) {
        self.write_prefix(out);
        write_members(out, members, self.style);
        out.push(b'}');
    }
}

/// Removes null object members and null array elements at every depth. Returns `false` when
/// `value` itself is null (so it can be used with `retain`).
pub fn drop_nulls(value: &mut Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(map) => {
            map.retain(|_, v| drop_nulls(v));
            true
        }
        Value::Array(items) => {
            items.retain_mut(drop_nulls);
            true
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(tenant: Option<&str>) -> Envelope {
        Envelope {
            integration: "1password",
            namespace: "op",
            discriminator: "event_type",
            position: DiscriminatorPosition::Last,
            style: JsonStyle::Python,
            tenant: tenant.map(str::to_owned),
        }
    }

    fn xdr() -> Envelope {
        Envelope {
            integration: "cortex_xdr",
            namespace: "xdr",
            discriminator: "type",
            position: DiscriminatorPosition::First,
            style: JsonStyle::Compact,
            tenant: None,
        }
    }

    fn obj(s: &str) -> Map<String, Value> {
        serde_json::from_str(s).unwrap()
    }

    fn line(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn onepassword_reference_prefix_and_nulls() {
        let rec = obj(
            r#"{"uuid":"U1","country":"","details":null,"target_user":{"name":"Zoë","x":null},"list":[1,null,2]}"#,
        );
        let got = line(|o| op(None).write_vendor("signin_attempt", rec, o));
        assert_eq!(
            got,
            r#"{"integration": "1password", "op": {"uuid": "U1", "country": "", "target_user": {"name": "Zo\u00eb"}, "list": [1, 2], "event_type": "signin_attempt"}}"#
        );
    }

    #[test]
    fn tenant_goes_before_discriminator() {
        let got =
            line(|o| op(Some("client-a")).write_vendor("audit_event", obj(r#"{"uuid":"U"}"#), o));
        assert!(
            got.ends_with(r#""uuid": "U", "tenant": "client-a", "event_type": "audit_event"}}"#),
            "{got}"
        );
    }

    #[test]
    fn vendor_discriminator_is_kept_aside() {
        let got = line(|o| {
            xdr().write_vendor(
                "alert",
                obj(r#"{"alert_id":"1","type":"vendor","event_type":"Process Execution"}"#),
                o,
            )
        });
        assert_eq!(
            got,
            r#"{"integration":"cortex_xdr","xdr":{"type":"alert","alert_id":"1","vendor_type":"vendor","event_type":"Process Execution"}}"#
        );
        let got = line(|o| {
            op(None).write_vendor("audit_event", obj(r#"{"event_type":"x","uuid":"U"}"#), o)
        });
        assert_eq!(
            got,
            r#"{"integration": "1password", "op": {"event_type": "audit_event", "vendor_event_type": "x", "uuid": "U"}}"#
        );
    }

    #[test]
    fn internal_records_keep_field_order() {
        let got = line(|o| {
            op(Some("t")).write_internal(
                "error",
                obj(r#"{"source":"signin","error_code":"API_HTTP_401","error_detail":null}"#),
                o,
            )
        });
        assert_eq!(
            got,
            r#"{"integration": "1password", "op": {"source": "signin", "error_code": "API_HTTP_401", "tenant": "t", "event_type": "error"}}"#
        );
    }
}
