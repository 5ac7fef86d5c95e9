//! The wire side of Open311 GeoReport v2: one document model written as JSON or as XML (by
//! hand, escaped), the spec's error body, W3C datetimes in China time, and form decoding.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shezhi_domain::people::Date;

/// The two formats a path's extension may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// `services.json` → (`services`, JSON); None for any other extension.
pub fn split_file(file: &str) -> Option<(&str, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    let format = match ext {
        "json" => Format::Json,
        "xml" => Format::Xml,
        _ => return None,
    };
    Some((name, format))
}

/// A value of a field. `Empty` is an empty list (a service's attributes).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Text(String),
    Num(f64),
    Bool(bool),
    Empty,
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Text(s.to_string())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Text(s)
    }
}

/// An element with its fields in the spec's order (JSON objects keep it too).
pub type Record = Vec<(&'static str, Val)>;

/// A whole answer: a list of `item`s inside `root`, or one record as `root` itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    List {
        root: &'static str,
        item: &'static str,
        records: Vec<Record>,
    },
    One {
        root: &'static str,
        record: Record,
    },
}

/// A failure in the spec's shape: the HTTP status is also the error's code.
#[derive(Debug, Clone, PartialEq)]
pub struct Fail {
    pub status: StatusCode,
    /// English, then the Chinese after a slash.
    pub description: String,
}

impl Fail {
    pub fn new(status: StatusCode, en: &str, zh: &str) -> Fail {
        Fail {
            status,
            description: format!("{en} / {zh}"),
        }
    }
}

impl From<crate::ApiError> for Fail {
    fn from(e: crate::ApiError) -> Fail {
        match e {
            crate::ApiError::Client(status, t) => Fail::new(status, &t.en, &t.zh),
            crate::ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Fail::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal server error",
                    "服务器内部错误",
                )
            }
        }
    }
}

impl From<shezhi_store::StoreError> for Fail {
    fn from(e: shezhi_store::StoreError) -> Fail {
        crate::ApiError::from(e).into()
    }
}

/// The response for an answer or a failure, in the format asked for.
pub fn reply(format: Format, status: StatusCode, answer: Result<Doc, Fail>) -> Response {
    let (status, doc) = match answer {
        Ok(doc) => (status, doc),
        Err(f) => {
            let record: Record = vec![
                ("code", Val::Num(f64::from(f.status.as_u16()))),
                ("description", Val::Text(f.description)),
            ];
            let doc = Doc::List {
                root: "errors",
                item: "error",
                records: vec![record],
            };
            (f.status, doc)
        }
    };
    let (content_type, body) = match format {
        Format::Json => ("application/json", json(&doc)),
        Format::Xml => ("text/xml; charset=utf-8", xml(&doc)),
    };
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn json_val(v: &Val, out: &mut String) {
    match v {
        Val::Text(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
        Val::Num(n) if n.is_finite() => out.push_str(&n.to_string()),
        Val::Num(_) => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Empty => out.push_str("[]"),
    }
}

fn json_record(r: &Record, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in r.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(k);
        out.push_str("\":");
        json_val(v, out);
    }
    out.push('}');
}

pub fn json(doc: &Doc) -> String {
    let mut out = String::new();
    match doc {
        Doc::List { records, .. } => {
            out.push('[');
            for (i, r) in records.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_record(r, &mut out);
            }
            out.push(']');
        }
        Doc::One { record, .. } => json_record(record, &mut out),
    }
    out
}

/// Text as XML character data: markup escaped, characters XML 1.0 cannot hold dropped.
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

fn xml_record(r: &Record, out: &mut String) {
    for (k, v) in r {
        let text = match v {
            Val::Text(s) => s.clone(),
            Val::Num(n) if n.is_finite() => n.to_string(),
            Val::Bool(b) => b.to_string(),
            Val::Num(_) | Val::Empty => String::new(),
        };
        if text.is_empty() {
            out.push_str(&format!("<{k}/>"));
        } else {
            out.push_str(&format!("<{k}>"));
            escape(&text, out);
            out.push_str(&format!("</{k}>"));
        }
    }
}

pub fn xml(doc: &Doc) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    match doc {
        Doc::List {
            root,
            item,
            records,
        } => {
            out.push_str(&format!("<{root}>"));
            for r in records {
                out.push_str(&format!("<{item}>"));
                xml_record(r, &mut out);
                out.push_str(&format!("</{item}>"));
            }
            out.push_str(&format!("</{root}>"));
        }
        Doc::One { root, record } => {
            out.push_str(&format!("<{root}>"));
            xml_record(record, &mut out);
            out.push_str(&format!("</{root}>"));
        }
    }
    out.push('\n');
    out
}

const MS_PER_DAY: i64 = 86_400_000;
const CST_MS: i64 = 8 * 3_600_000;

/// An instant as a W3C datetime in China time, e.g. `2026-11-23T10:00:00+08:00`.
pub fn w3c(ms: i64) -> String {
    let local = ms + CST_MS;
    let d = Date::from_days_since_epoch(local.div_euclid(MS_PER_DAY));
    let secs = local.rem_euclid(MS_PER_DAY) / 1000;
    format!(
        "{d}T{:02}:{:02}:{:02}+08:00",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A W3C datetime (`YYYY-MM-DD`, or with `Thh:mm[:ss[.s…]]` and `Z` or `±hh:mm`) as epoch
/// milliseconds. A date alone, or a time without a zone, is read as China time. A `+` that
/// arrived unescaped in a query string (and so became a space) still counts as `+`.
pub fn parse_w3c(s: &str) -> Option<i64> {
    let s = s.trim_start();
    let date = Date::parse(s.get(..10)?)?;
    let day_ms = date.days_since_epoch() * MS_PER_DAY;
    let rest = s.get(10..)?;
    if rest.is_empty() {
        return Some(day_ms - CST_MS);
    }
    let rest = rest.strip_prefix(['T', 't'])?;
    let zone_at = rest.find(['Z', 'z', '+', '-', ' ']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(zone_at);
    let mut parts = time.splitn(3, ':');
    let num = |p: Option<&str>, max: i64| -> Option<i64> {
        let p = p?;
        let n: i64 =
            (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse().ok())??;
        (n <= max).then_some(n)
    };
    let h = num(parts.next(), 23)?;
    let m = num(parts.next(), 59)?;
    let (sec, frac_ms) = match parts.next() {
        None => (0, 0),
        Some(sp) => {
            let (whole, frac) = sp.split_once('.').unwrap_or((sp, ""));
            if !frac.bytes().all(|b| b.is_ascii_digit()) || sp.ends_with('.') {
                return None;
            }
            let ms = format!("{frac:0<3}").get(..3)?.parse::<i64>().ok()?;
            (num(Some(whole), 60)?, ms)
        }
    };
    let offset = match zone {
        "" => CST_MS,
        "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let hm = z.get(1..)?.replace(':', "");
            let hh = num(hm.get(..2), 23)?;
            let mm = num(hm.get(2..), 59)?;
            sign * (hh * 60 + mm) * 60_000
        }
    };
    Some(day_ms + ((h * 60 + m) * 60 + sec) * 1000 + frac_ms - offset)
}

/// Name–value pairs of `application/x-www-form-urlencoded` text (also a query string).
pub fn form_pairs(raw: &[u8]) -> Vec<(String, String)> {
    raw.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|b| *b == b'=') {
            Some(i) => (decode(&p[..i]), decode(&p[i + 1..])),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn decode(b: &[u8]) -> String {
    let hex = |x: u8| (x as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1).copied(), b.get(i + 2).copied()) {
            (b'+', _, _) => out.push(b' '),
            (b'%', Some(x), Some(y)) if hex(x).is_some() && hex(y).is_some() => {
                let v = hex(x).unwrap_or(0) * 16 + hex(y).unwrap_or(0);
                out.push(v as u8);
                i += 2;
            }
            (c, _, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_round_trip_in_china_time() {
        let ms = 1_795_363_200_000 + 10 * 3_600_000 + 61_000;
        assert_eq!(w3c(ms), "2026-11-23T10:01:01+08:00");
        assert_eq!(parse_w3c(&w3c(ms)), Some(ms));
        assert_eq!(parse_w3c("2026-11-23T02:01:01Z"), Some(ms));
        assert_eq!(parse_w3c("2026-11-23T02:01:01.000Z"), Some(ms));
        assert_eq!(parse_w3c("2026-11-22T21:01:01-05:00"), Some(ms));
        assert_eq!(parse_w3c("2026-11-23T10:01:01 08:00"), Some(ms));
        assert_eq!(parse_w3c("2026-11-23T10:01:01"), Some(ms));
        assert_eq!(parse_w3c("2026-11-23"), Some(1_795_363_200_000));
        assert_eq!(parse_w3c("2026-11-23T10:01:01.5+08:00"), Some(ms + 500));
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-11-23T25:00Z",
            "2026-11-23T10:00+0",
            "2026-11-23X10:00Z",
            "2026-11-23T10:00:0.Z",
            "2026-11-23T10:00:01.Z",
        ] {
            assert_eq!(parse_w3c(bad), None, "{bad}");
        }
    }

    #[test]
    fn xml_escapes_markup_and_drops_what_xml_cannot_hold() {
        let mut out = String::new();
        escape("<a href=\"x\">&'\u{1}成都", &mut out);
        assert_eq!(out, "&lt;a href=&quot;x&quot;&gt;&amp;&apos;成都");
    }

    #[test]
    fn documents_in_both_formats() {
        let doc = Doc::One {
            root: "service_definition",
            record: vec![("service_code", "a&b".into()), ("attributes", Val::Empty)],
        };
        assert_eq!(json(&doc), r#"{"service_code":"a&b","attributes":[]}"#);
        assert!(xml(&doc).contains(
            "<service_definition><service_code>a&amp;b</service_code><attributes/></service_definition>"
        ));
        let fail = reply(
            Format::Xml,
            StatusCode::OK,
            Err(Fail::new(StatusCode::NOT_FOUND, "no", "没有")),
        );
        assert_eq!(fail.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn forms_decode_percent_and_plus() {
        let pairs = form_pairs(b"a=1+2&b=%E6%88%90%E9%83%BD&c&d=%zz&=e");
        assert_eq!(
            pairs,
            vec![
                ("a".into(), "1 2".into()),
                ("b".into(), "成都".into()),
                ("c".into(), String::new()),
                ("d".into(), "%zz".into()),
                (String::new(), "e".into()),
            ]
        );
        assert_eq!(
            split_file("services.json"),
            Some(("services", Format::Json))
        );
        assert_eq!(split_file("SQ1.xml"), Some(("SQ1", Format::Xml)));
        assert_eq!(split_file("services.csv"), None);
        assert_eq!(split_file("services"), None);
    }
}
