//! A campaign's checklist as data: questions with a type, whether they are required, and an
//! optional condition on an earlier answer (ask "how many gas cylinders?" only when "uses
//! bottled gas?" was yes). A form is checked when a campaign is made; answers are checked
//! against it on every visit.

use crate::Bilingual;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Kind {
    YesNo,
    Number {
        #[serde(default)]
        min: Option<f64>,
        #[serde(default)]
        max: Option<f64>,
    },
    Text,
    Choice {
        options: Vec<String>,
    },
}

/// Ask a question only when an earlier one was answered with `equals`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Condition {
    pub question: String,
    pub equals: Value,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Question {
    pub id: String,
    pub text_zh: String,
    #[serde(default)]
    pub text_en: String,
    #[serde(flatten)]
    pub kind: Kind,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub when: Option<Condition>,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Form {
    pub questions: Vec<Question>,
}

/// Why a form or a set of answers is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    Malformed(String),
    DuplicateQuestion(String),
    BadCondition(String),
    NoOptions(String),
    Missing(String),
    WrongType(String),
    OutOfRange(String),
    NotAsked(String),
    Unknown(String),
}

impl Bilingual for FormError {
    fn code(&self) -> &'static str {
        match self {
            FormError::Malformed(_) => "form_malformed",
            FormError::DuplicateQuestion(_) => "form_duplicate_question",
            FormError::BadCondition(_) => "form_bad_condition",
            FormError::NoOptions(_) => "form_no_options",
            FormError::Missing(_) => "answer_missing",
            FormError::WrongType(_) => "answer_wrong_type",
            FormError::OutOfRange(_) => "answer_out_of_range",
            FormError::NotAsked(_) => "answer_not_asked",
            FormError::Unknown(_) => "answer_unknown_question",
        }
    }

    fn zh(&self) -> String {
        match self {
            FormError::Malformed(e) => format!("检查表格式无效：{e}"),
            FormError::DuplicateQuestion(q) => format!("检查表中问题“{q}”重复"),
            FormError::BadCondition(q) => format!("问题“{q}”的条件须引用它之前的问题"),
            FormError::NoOptions(q) => format!("选择题“{q}”没有选项"),
            FormError::Missing(q) => format!("必答问题“{q}”未回答"),
            FormError::WrongType(q) => format!("问题“{q}”的答案类型不对"),
            FormError::OutOfRange(q) => format!("问题“{q}”的答案超出范围或不在选项中"),
            FormError::NotAsked(q) => format!("问题“{q}”按条件不应回答"),
            FormError::Unknown(q) => format!("检查表中没有问题“{q}”"),
        }
    }

    fn en(&self) -> String {
        match self {
            FormError::Malformed(e) => format!("the checklist is malformed: {e}"),
            FormError::DuplicateQuestion(q) => format!("question {q:?} appears twice"),
            FormError::BadCondition(q) => {
                format!("the condition of question {q:?} must name an earlier question")
            }
            FormError::NoOptions(q) => format!("choice question {q:?} has no options"),
            FormError::Missing(q) => format!("required question {q:?} is not answered"),
            FormError::WrongType(q) => format!("the answer to {q:?} has the wrong type"),
            FormError::OutOfRange(q) => {
                format!("the answer to {q:?} is out of range or not an option")
            }
            FormError::NotAsked(q) => format!("question {q:?} does not apply and must be empty"),
            FormError::Unknown(q) => format!("the checklist has no question {q:?}"),
        }
    }
}

impl Form {
    /// Reads and checks a form: unique ids, conditions on earlier questions, choices with
    /// options.
    pub fn parse(v: &Value) -> Result<Form, FormError> {
        let form: Form =
            serde_json::from_value(v.clone()).map_err(|e| FormError::Malformed(e.to_string()))?;
        let mut seen = HashSet::new();
        for q in &form.questions {
            if q.id.trim().is_empty() || q.text_zh.trim().is_empty() {
                return Err(FormError::Malformed("每个问题都需要 id 和 text_zh".into()));
            }
            if let Some(c) = &q.when
                && !seen.contains(c.question.as_str())
            {
                return Err(FormError::BadCondition(q.id.clone()));
            }
            if matches!(&q.kind, Kind::Choice { options } if options.is_empty()) {
                return Err(FormError::NoOptions(q.id.clone()));
            }
            if !seen.insert(q.id.as_str()) {
                return Err(FormError::DuplicateQuestion(q.id.clone()));
            }
        }
        Ok(form)
    }

    /// Checks a visit's answers: every question that applies and is required is answered
    /// with the right type; none that does not apply is; nothing unknown.
    pub fn check(&self, answers: &BTreeMap<String, Value>) -> Result<(), FormError> {
        for id in answers.keys() {
            if !self.questions.iter().any(|q| &q.id == id) {
                return Err(FormError::Unknown(id.clone()));
            }
        }
        for q in &self.questions {
            let applies = q
                .when
                .as_ref()
                .is_none_or(|c| answers.get(&c.question) == Some(&c.equals));
            let answer = answers.get(&q.id).filter(|v| !v.is_null());
            match (applies, answer) {
                (false, Some(_)) => return Err(FormError::NotAsked(q.id.clone())),
                (true, None) if q.required => return Err(FormError::Missing(q.id.clone())),
                (true, Some(a)) => check_one(q, a)?,
                _ => {}
            }
        }
        Ok(())
    }
}

fn check_one(q: &Question, a: &Value) -> Result<(), FormError> {
    let wrong = || FormError::WrongType(q.id.clone());
    match &q.kind {
        Kind::YesNo => a.as_bool().map(|_| ()).ok_or_else(wrong),
        Kind::Text => a.as_str().map(|_| ()).ok_or_else(wrong),
        Kind::Number { min, max } => {
            let n = a.as_f64().ok_or_else(wrong)?;
            if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                return Err(FormError::OutOfRange(q.id.clone()));
            }
            Ok(())
        }
        Kind::Choice { options } => {
            let s = a.as_str().ok_or_else(wrong)?;
            if options.iter().any(|o| o == s) {
                Ok(())
            } else {
                Err(FormError::OutOfRange(q.id.clone()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> Form {
        Form::parse(&json!({"questions": [
            {"id": "gas", "text_zh": "是否使用瓶装燃气", "type": "yes_no", "required": true},
            {"id": "cylinders", "text_zh": "气瓶数量", "type": "number", "min": 1, "max": 20, "required": true,
             "when": {"question": "gas", "equals": true}},
            {"id": "ebike", "text_zh": "电动车停放", "type": "choice", "options": ["棚内", "楼道", "室内"]},
            {"id": "note", "text_zh": "其他情况", "type": "text"}
        ]}))
        .unwrap_or_default()
    }

    fn answers(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap_or_default()
    }

    #[test]
    fn conditional_questions_are_asked_only_when_they_apply() {
        let f = form();
        assert_eq!(f.questions.len(), 4);
        assert_eq!(f.check(&answers(json!({"gas": false}))), Ok(()));
        assert_eq!(
            f.check(&answers(json!({"gas": true}))),
            Err(FormError::Missing("cylinders".into()))
        );
        assert_eq!(
            f.check(&answers(
                json!({"gas": true, "cylinders": 2, "ebike": "棚内"})
            )),
            Ok(())
        );
        assert_eq!(
            f.check(&answers(json!({"gas": false, "cylinders": 2}))),
            Err(FormError::NotAsked("cylinders".into()))
        );
    }

    #[test]
    fn answers_of_the_wrong_kind_are_refused_by_name() {
        let f = form();
        let e = |v| f.check(&answers(v)).err().map(|e| e.code());
        assert_eq!(e(json!({"gas": "yes"})), Some("answer_wrong_type"));
        assert_eq!(
            e(json!({"gas": true, "cylinders": 50})),
            Some("answer_out_of_range")
        );
        assert_eq!(
            e(json!({"gas": false, "ebike": "屋顶"})),
            Some("answer_out_of_range")
        );
        assert_eq!(
            e(json!({"gas": false, "pets": 1})),
            Some("answer_unknown_question")
        );
    }

    #[test]
    fn bad_forms_are_refused_when_the_campaign_is_made() {
        let p = |v| Form::parse(&v).err().map(|e| e.code());
        assert_eq!(p(json!({"questions": 3})), Some("form_malformed"));
        assert_eq!(
            p(
                json!({"questions": [{"id": "a", "text_zh": "甲", "type": "text"}, {"id": "a", "text_zh": "乙", "type": "text"}]})
            ),
            Some("form_duplicate_question")
        );
        assert_eq!(
            p(
                json!({"questions": [{"id": "a", "text_zh": "甲", "type": "text", "when": {"question": "b", "equals": 1}}]})
            ),
            Some("form_bad_condition")
        );
        assert_eq!(
            p(
                json!({"questions": [{"id": "a", "text_zh": "甲", "type": "choice", "options": []}]})
            ),
            Some("form_no_options")
        );
    }
}
