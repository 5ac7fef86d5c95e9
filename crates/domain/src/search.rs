//! Chinese text search over cases: what is indexed from a text, and what a query asks for.
//!
//! A case's title, description and address are cut into **terms**: each run of Han (or kana)
//! characters gives its overlapping pairs of characters plus its last character alone
//! ("路灯不亮" → 路灯 灯不 不亮 亮), and each run of other letters and digits gives one term,
//! lower-cased ("SQ2026" → sq2026). Full-width letters and digits count as their half-width
//! forms. Both databases index these terms with their positions (SQLite FTS5, PostgreSQL
//! `tsvector`), built here, so the two agree term for term.
//!
//! A **query** is cut into words by a dictionary segmenter (jieba), so that "堆放杂物" finds
//! "楼道里堆放了很多杂物": every word must occur in one of the three fields, in any order.
//! Function characters standing alone (的, 了, 在 …) are dropped. Consecutive one-character
//! pieces are joined again ("3号楼" stays one word), so that a query which occurs in a field
//! as it stands always finds it. A word becomes a phrase of terms: the pairs of its Han runs,
//! and, as the last term, a prefix (a word ending in one Han character, or in letters or
//! digits, matches the longer run it begins). A Han word thus matches wherever it occurs in a
//! field; letters and digits match at the start of a run of letters and digits.
//!
//! [`TextQuery::matches`] answers the same question in memory, for cases not yet indexed.

use std::sync::OnceLock;

/// Characters that carry no meaning of their own in a query when they stand alone.
const FUNCTION_CHARS: &str = "的了在是和与及或把被着过吗呢吧啊也都就很有";

/// Most words taken from one query.
const MAX_WORDS: usize = 8;

/// A term of a phrase: equal to an indexed term, or the start of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Exact(String),
    Prefix(String),
}

/// What a text query asks for: every phrase occurs in one of the fields; and readable case
/// numbers it names, which are looked up as numbers besides.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextQuery {
    pub phrases: Vec<Vec<Term>>,
    pub numbers: Vec<String>,
}

fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3041..=0x3096        // hiragana
        | 0x30A1..=0x30FA      // katakana
        | 0x30FC               // prolonged sound mark
        | 0x3400..=0x4DBF      // extension A
        | 0x4E00..=0x9FFF      // unified ideographs
        | 0xF900..=0xFAFF      // compatibility ideographs
        | 0x20000..=0x3FFFF) // extensions B and later
}

/// Full-width forms as their ASCII equivalents, lower case.
fn fold(c: char) -> char {
    let c = match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    };
    c.to_lowercase().next().unwrap_or(c)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Han,
    Word,
    Gap,
}

fn class(c: char) -> Class {
    if is_han(c) {
        Class::Han
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Gap
    }
}

/// Longest run of letters and digits kept as one term; a longer run is cut into terms of
/// this length from its start (PostgreSQL refuses lexemes over 2 KB).
const MAX_WORD: usize = 64;

/// The runs of a text: (class, characters), gaps left out.
fn runs(text: &str) -> Vec<(Class, Vec<char>)> {
    let mut out: Vec<(Class, Vec<char>)> = Vec::new();
    for c in text.chars().map(fold) {
        let k = class(c);
        match out.last_mut() {
            Some((last, chars))
                if *last == k && k != Class::Gap && (k == Class::Han || chars.len() < MAX_WORD) =>
            {
                chars.push(c)
            }
            _ => out.push((k, vec![c])),
        }
    }
    out.retain(|(k, _)| *k != Class::Gap);
    out
}

/// The terms indexed for one field, in order (their positions are their indexes).
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (k, chars) in runs(text) {
        match k {
            Class::Han => {
                for pair in chars.windows(2) {
                    out.push(pair.iter().collect());
                }
                out.push(chars[chars.len() - 1].to_string());
            }
            _ => out.push(chars.iter().collect()),
        }
    }
    out
}

/// The phrase a query word asks for (empty for a word with no letters).
fn phrase(word: &str) -> Vec<Term> {
    let runs = runs(word);
    let mut out = Vec::new();
    for (i, (k, chars)) in runs.iter().enumerate() {
        let last = i + 1 == runs.len();
        match k {
            Class::Han if chars.len() >= 2 => {
                out.extend(chars.windows(2).map(|p| Term::Exact(p.iter().collect())));
                // The run ends here in the text as well, so its last character follows.
                if !last {
                    out.push(Term::Exact(chars[chars.len() - 1].to_string()));
                }
            }
            _ => {
                let t: String = chars.iter().collect();
                out.push(if last {
                    Term::Prefix(t)
                } else {
                    Term::Exact(t)
                });
            }
        }
    }
    out
}

fn segmenter() -> &'static jieba_rs::Jieba {
    static JIEBA: OnceLock<jieba_rs::Jieba> = OnceLock::new();
    JIEBA.get_or_init(jieba_rs::Jieba::new)
}

/// Load the segmenter's dictionary now rather than at the first query (about 60 ms).
pub fn warm_up() {
    segmenter();
}

/// Whether a piece of a query is one of a readable case number's shape: letters then digits,
/// ten characters or more (`SQ2026112300001`).
fn number_like(s: &str) -> bool {
    s.len() >= 10
        && s.chars().all(|c| c.is_ascii_alphanumeric())
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().any(|c| c.is_ascii_digit())
}

impl TextQuery {
    /// The query in `q`, or None when it asks for nothing (no word with a letter in it).
    pub fn parse(q: &str) -> Option<TextQuery> {
        let mut query = TextQuery::default();
        let mut words: Vec<String> = Vec::new();
        for chunk in q.split_whitespace() {
            if number_like(chunk) {
                query.numbers.push(chunk.to_ascii_uppercase());
            }
            // One-character pieces, and letters or digits, gather into one word until a
            // longer word or a function character comes.
            let mut small = String::new();
            for token in segmenter().cut(chunk, true) {
                let piece = token.word;
                let n = piece.chars().count();
                let function = n == 1 && piece.chars().all(|c| FUNCTION_CHARS.contains(c));
                let punctuation = piece.chars().all(|c| class(fold(c)) == Class::Gap);
                let han = piece.chars().all(is_han);
                if han && n >= 2 && small.chars().last().is_some_and(|c| !is_han(c)) {
                    // Letters or digits run on into the word after them ("3号楼").
                    small.push_str(piece);
                    words.push(std::mem::take(&mut small));
                } else if function || punctuation || (han && n >= 2) {
                    if !small.is_empty() {
                        words.push(std::mem::take(&mut small));
                    }
                    if han && n >= 2 {
                        words.push(piece.to_string());
                    }
                } else {
                    small.push_str(piece);
                }
            }
            if !small.is_empty() {
                words.push(small);
            }
        }
        for w in words {
            let p = phrase(&w);
            if !p.is_empty() && !query.phrases.contains(&p) && query.phrases.len() < MAX_WORDS {
                query.phrases.push(p);
            }
        }
        (!query.phrases.is_empty() || !query.numbers.is_empty()).then_some(query)
    }

    /// The query in SQLite FTS5's syntax: each phrase quoted, all of them required.
    pub fn fts5(&self) -> String {
        let mut out = Vec::new();
        for p in &self.phrases {
            let mut s = String::from("\"");
            let mut prefix = false;
            for (i, t) in p.iter().enumerate() {
                if i > 0 {
                    s.push(' ');
                }
                match t {
                    Term::Exact(x) => s.push_str(x),
                    Term::Prefix(x) => {
                        s.push_str(x);
                        prefix = true;
                    }
                }
            }
            s.push('"');
            if prefix {
                s.push_str(" *");
            }
            out.push(s);
        }
        out.join(" AND ")
    }

    /// The query as a PostgreSQL `tsquery` literal: phrases of adjacent terms (`<->`), all of
    /// them required.
    pub fn tsquery(&self) -> String {
        self.phrases
            .iter()
            .map(|p| {
                let terms: Vec<String> = p
                    .iter()
                    .map(|t| match t {
                        Term::Exact(x) => format!("'{x}'"),
                        Term::Prefix(x) => format!("'{x}':*"),
                    })
                    .collect();
                format!("({})", terms.join(" <-> "))
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// Whether every phrase occurs in one of the fields, as the indexes would answer.
    pub fn matches(&self, fields: &[&str]) -> bool {
        let indexed: Vec<Vec<String>> = fields.iter().map(|f| terms(f)).collect();
        !self.phrases.is_empty()
            && self
                .phrases
                .iter()
                .all(|p| indexed.iter().any(|ts| phrase_in(p, ts)))
    }
}

fn phrase_in(p: &[Term], ts: &[String]) -> bool {
    p.len() <= ts.len()
        && ts.windows(p.len()).any(|w| {
            w.iter().zip(p).all(|(t, q)| match q {
                Term::Exact(x) => t == x,
                Term::Prefix(x) => t.starts_with(x.as_str()),
            })
        })
}

/// The regions a case in `cell` lies in, below the city, whose codes are indexed with its
/// words: a list of one of them asks the index for the region with the words, so that rare
/// words in a district are not first found across the whole city.
pub fn places(cell: &crate::territory::RegionCode) -> Vec<String> {
    cell.ancestors()
        .into_iter()
        .chain(std::iter::once(cell.clone()))
        .filter(|c| c.level() != crate::territory::Level::City)
        .map(|c| c.as_str().to_string())
        .collect()
}

/// The indexed terms of a case's fields as a PostgreSQL `tsvector` literal, with positions;
/// each field starts one position after the last term of the one before plus one, so that no
/// phrase spans two fields. The codes of its `places` follow as `@code` (no word has an `@`).
pub fn tsvector(fields: &[&str], places: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut pos = 1usize;
    for f in fields {
        for t in terms(f) {
            // Positions above 16,383 are stored as 16,383 by PostgreSQL.
            out.push(format!("'{t}':{}", pos.min(16_383)));
            pos += 1;
        }
        pos += 1;
    }
    out.extend(places.iter().map(|p| format!("'@{p}'")));
    out.join(" ")
}

/// `query` (in FTS5's syntax, or as a `tsquery`) narrowed to cases in one of `places`
/// (region codes below the city).
pub fn within_places(query: &str, places: &[&str], fts5: bool) -> String {
    if places.is_empty() {
        return query.to_string();
    }
    if fts5 {
        let any: Vec<String> = places.iter().map(|p| format!("place : \"{p}\"")).collect();
        format!("({query}) AND ({})", any.join(" OR "))
    } else {
        let any: Vec<String> = places.iter().map(|p| format!("'@{p}'")).collect();
        format!("({query}) & ({})", any.join(" | "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> TextQuery {
        TextQuery::parse(s).unwrap_or_default()
    }

    #[test]
    fn han_runs_give_their_pairs_and_last_character() {
        assert_eq!(terms("路灯不亮！"), ["路灯", "灯不", "不亮", "亮"]);
        assert_eq!(
            terms("玉林北路３号楼"),
            ["玉林", "林北", "北路", "路", "3", "号楼", "楼"]
        );
        assert_eq!(terms("SQ2026 噪音"), ["sq2026", "噪音", "音"]);
        assert_eq!(terms("灯"), ["灯"]);
        assert!(terms("，。!").is_empty());
    }

    #[test]
    fn a_query_is_cut_into_words_that_may_come_in_any_order() {
        let doc = [
            "楼道堆放杂物",
            "楼道里堆放了很多杂物，存在消防安全隐患",
            "玉林北路3号楼",
        ];
        for hit in [
            "堆放杂物",
            "杂物 楼道",
            "消防安全",
            "楼道的杂物",
            "3号楼",
            "3号",
            "北路3",
        ] {
            let query = q(hit);
            assert!(query.matches(&doc), "{hit}: {query:?}");
        }
        for miss in ["堆放垃圾", "物杂", "4号楼", "路灯", "13号楼"] {
            assert!(!q(miss).matches(&doc), "{miss}");
        }
        assert!(q("灯").matches(&["路灯不亮"]));
        assert!(q("亮").matches(&["路灯不亮"]));
    }

    #[test]
    fn a_phrase_never_spans_two_fields() {
        // "杂物" would span the title's end and the description's start.
        assert!(!q("杂物").matches(&["楼道里有杂", "物品很多"]));
        assert_eq!(
            tsvector(&["路灯", "坏"], &["510104000000".into()]),
            "'路灯':1 '灯':2 '坏':4 '@510104000000'"
        );
    }

    #[test]
    fn numbers_and_words_of_letters() {
        let query = q("SQ2026112300001");
        assert_eq!(query.numbers, ["SQ2026112300001"]);
        assert!(query.matches(&["编号 sq2026112300001 的后续"]));
        assert!(q("wifi").matches(&["小区WiFi信号差"]));
        assert!(q("wi").matches(&["小区WiFi信号差"]));
        assert!(!q("fi").matches(&["小区WiFi信号差"]));
        assert!(TextQuery::parse("的 了 ，").is_none());
    }

    #[test]
    fn a_long_run_of_letters_is_cut_the_same_way_in_text_and_query() {
        let long = "x".repeat(150);
        assert_eq!(
            terms(&long).iter().map(String::len).collect::<Vec<_>>(),
            [64, 64, 22]
        );
        assert!(q(&long).matches(&[&format!("前{long}后")]));
        assert!(q(&"x".repeat(100)).matches(&[&long]));
    }

    #[test]
    fn the_database_forms_of_a_query() {
        let query = q("消防安全 3号楼");
        assert_eq!(query.fts5(), "\"消防 防安 安全\" AND \"3 号楼\"");
        assert_eq!(
            query.tsquery(),
            "('消防' <-> '防安' <-> '安全') & ('3' <-> '号楼')"
        );
        let query = q("路 wifi");
        assert_eq!(query.fts5(), "\"路\" * AND \"wifi\" *");
        assert_eq!(query.tsquery(), "('路':*) & ('wifi':*)");
    }

    /// A word's phrase occurs in the terms of any text the word stands in, whatever its runs.
    #[test]
    fn a_words_phrase_is_found_in_any_text_holding_the_word() {
        for word in [
            "号楼3",
            "路3号",
            "3号楼",
            "ab路灯cd",
            "路灯ab灯",
            "x",
            "灯",
            "wifi信号差",
            "12栋3单元",
        ] {
            for text in [
                word.to_string(),
                format!("前面{word}后面"),
                format!("前 {word} 后"),
            ] {
                assert!(
                    phrase_in(&phrase(word), &terms(&text)),
                    "{word} in {text}: {:?} {:?}",
                    phrase(word),
                    terms(&text)
                );
            }
        }
    }

    /// Any stretch of a field's Han text, as a query, finds the field.
    #[test]
    fn every_stretch_of_han_text_finds_its_field() {
        let field = "楼道里堆放了很多杂物存在消防安全隐患请尽快处理";
        let chars: Vec<char> = field.chars().collect();
        for a in 0..chars.len() {
            for b in a + 1..=chars.len() {
                let s: String = chars[a..b].iter().collect();
                if let Some(query) = TextQuery::parse(&s) {
                    assert!(query.matches(&[field]), "{s}: {query:?}");
                }
            }
        }
    }
}
