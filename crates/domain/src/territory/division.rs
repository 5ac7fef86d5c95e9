//! Reading a divisions CSV (`level,code,name,parent_code`): every row is checked and every
//! bad row reported by its line number, so a file loads whole or not at all.

use super::{Level, RegionCode, RegionKind};
use crate::Bilingual;
use std::collections::HashSet;

/// One accepted division row.
#[derive(Debug, Clone, PartialEq)]
pub struct Division {
    pub line: usize,
    pub code: RegionCode,
    pub name: String,
    pub parent: Option<RegionCode>,
    pub kind: RegionKind,
}

/// A problem with one line of an input file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: usize,
    pub code: &'static str,
    pub zh: String,
    pub en: String,
}

impl RowError {
    pub fn new(
        line: usize,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> RowError {
        RowError {
            line,
            code,
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn from_error(line: usize, e: &dyn Bilingual) -> RowError {
        RowError::new(line, e.code(), e.zh(), e.en())
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: [{}] {} / {}",
            self.line, self.code, self.zh, self.en
        )
    }
}

const HEADER: [&str; 4] = ["level", "code", "name", "parent_code"];

/// Split one CSV line into fields, honouring double quotes.
fn split_csv(line: &str) -> Result<Vec<String>, &'static str> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.is_empty() => quoted = true,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote");
    }
    fields.push(cur);
    Ok(fields)
}

/// Parse and check a whole divisions file. `known` answers whether a parent code already
/// exists outside the file (in the database).
pub fn parse_divisions(
    text: &str,
    known: &dyn Fn(&RegionCode) -> bool,
) -> Result<Vec<Division>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    match lines.next() {
        Some((_, h))
            if split_csv(h.trim_start_matches('\u{feff}')).ok().as_deref()
                == Some(&HEADER.map(String::from)[..]) => {}
        _ => {
            return Err(vec![RowError::new(
                1,
                "csv_bad_header",
                "表头应为 level,code,name,parent_code",
                "the header must be level,code,name,parent_code",
            )]);
        }
    }
    let mut seen = HashSet::new();
    for (line, raw) in lines {
        if raw.trim().is_empty() {
            continue;
        }
        match parse_row(line, raw) {
            Ok(d) => {
                if !seen.insert(d.code.clone()) {
                    errors.push(RowError::new(
                        line,
                        "duplicate_code",
                        format!("代码 {} 重复出现", d.code),
                        format!("code {} appears more than once", d.code),
                    ));
                }
                rows.push(d);
            }
            Err(e) => errors.push(e),
        }
    }
    for d in &rows {
        if let Some(p) = &d.parent
            && !seen.contains(p)
            && !known(p)
        {
            errors.push(RowError::new(
                d.line,
                "unknown_parent",
                format!("上级代码 {p} 既不在文件中也不在库中"),
                format!("parent code {p} is neither in the file nor in the database"),
            ));
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError::new(
            1,
            "csv_empty",
            "文件没有数据行",
            "the file has no data rows",
        ));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

fn parse_row(line: usize, raw: &str) -> Result<Division, RowError> {
    let fields = split_csv(raw)
        .map_err(|_| RowError::new(line, "csv_malformed", "引号未闭合", "unterminated quote"))?;
    let [level, code, name, parent] = fields.as_slice() else {
        return Err(RowError::new(
            line,
            "csv_wrong_field_count",
            format!("应有4列，实际 {} 列", fields.len()),
            format!("expected 4 fields, found {}", fields.len()),
        ));
    };
    let level = Level::parse(level.trim())
        .filter(|l| *l <= Level::Community)
        .ok_or_else(|| {
            RowError::new(
                line,
                "invalid_level",
                format!("层级“{level}”无效，应为 city/district/street/community"),
                format!("level {level:?} is invalid: expected city, district, street or community"),
            )
        })?;
    let code = RegionCode::parse(code).map_err(|e| RowError::from_error(line, &e))?;
    if code.level() != level {
        return Err(RowError::new(
            line,
            "level_mismatch",
            format!(
                "代码 {code} 的结构表示{}，与层级 {level} 不符",
                code.level().zh()
            ),
            format!(
                "code {code} has the shape of a {}, not a {level}",
                code.level()
            ),
        ));
    }
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(RowError::new(
            line,
            "invalid_name",
            "名称为空或超过100字",
            "name is empty or longer than 100 characters",
        ));
    }
    let parent = match parent.trim() {
        "" => None,
        p => Some(RegionCode::parse(p).map_err(|e| RowError::from_error(line, &e))?),
    };
    if parent != code.parent() {
        let want = code
            .parent()
            .map(|c| c.to_string())
            .unwrap_or_else(|| "(none)".into());
        return Err(RowError::new(
            line,
            "parent_mismatch",
            format!("上级代码应为 {want}"),
            format!("the parent code must be {want}"),
        ));
    }
    let kind = RegionKind::from_division_name(level, &name);
    Ok(Division {
        line,
        code,
        name,
        parent,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_row_is_reported_by_line() {
        let csv = "level,code,name,parent_code\n\
                   city,510100000000,成都市,\n\
                   district,510104000000,锦江区,510100000000\n\
                   street,51010401700,短代码,510104000000\n\
                   street,510104017000,\"水井坊街道\",510199000000\n\
                   community,510104017001,社区,510104017000,extra\n\
                   town,510104018000,x,510104000000\n";
        let errs = parse_divisions(csv, &|_| false).err().unwrap_or_default();
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(
            got,
            [
                (4, "invalid_region_code"),
                (5, "parent_mismatch"),
                (6, "csv_wrong_field_count"),
                (7, "invalid_level")
            ]
        );
    }

    #[test]
    fn unknown_parent_is_checked_against_known_codes() {
        let csv = "level,code,name,parent_code\nstreet,510104017000,水井坊街道,510104000000\n";
        assert!(parse_divisions(csv, &|_| false).is_err());
        let ok = parse_divisions(csv, &|c| c.as_str() == "510104000000").unwrap_or_default();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].kind, RegionKind::Urban);
    }

    #[test]
    fn header_is_required() {
        let errs = parse_divisions("code,name\n", &|_| false)
            .err()
            .unwrap_or_default();
        assert_eq!(errs[0].code, "csv_bad_header");
    }
}
