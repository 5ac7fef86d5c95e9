//! The values many operations take (record ids, region and grid codes, page sizes, dates,
//! closed sets of codes) as named schemas with their constraints, stated once, so that the
//! document accepts what the parsers accept: `RegionCode::parse`, `record_id`, `limit`,
//! `Date::parse` and the domain's enums. A test checks the region code patterns against the
//! parser.

use serde_json::{Value, json};
use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};

/// Two digits other than `00`.
const NZ2: &str = "(0[1-9]|[1-9][0-9])";
/// Three digits other than `000`.
const NZ3: &str = "(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})";

/// What `RegionCode::parse` accepts (less surrounding white space): 12 digits of a division
/// whose groups (city 2, district 2, street 3, community 3 after the province's 2) are set
/// from the top down, then a grid's 3 and a micro-grid's 3, neither `000`.
pub fn region_code_pattern() -> String {
    format!("^{}$", region_code_group())
}

/// The region code pattern without its anchors, to be part of another.
fn region_code_group() -> String {
    format!("([0-9]{{2}}(0{{10}}|{NZ2}(0{{8}}|{NZ2}(0{{6}}|{NZ3}(000|{NZ3}({NZ3}({NZ3})?)?)))))")
}

/// A grid (15 digits) or micro-grid (18 digits) code.
pub fn grid_code_pattern() -> String {
    format!("^[0-9]{{2}}{NZ2}{NZ2}{NZ3}{NZ3}{NZ3}({NZ3})?$")
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// A string that is one of `values`.
pub fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> ObjectBuilder {
    string().enum_values(Some(values.into_iter().map(str::to_string)))
}

/// Declares a named schema (a `$ref` target in `components.schemas`).
macro_rules! named_schema {
    ($(#[$meta:meta])* $ty:ident, $build:expr) => {
        $(#[$meta])*
        pub struct $ty;

        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                let b: ObjectBuilder = $build;
                RefOr::T(Schema::Object(b.build()))
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($ty))
            }

            fn schemas(_: &mut Vec<(String, RefOr<Schema>)>) {}
        }
    };
}

named_schema!(
    /// The id of a stored record: a whole number from 1.
    RecordId,
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
        .description(Some("A record id: a whole number from 1 (else `400 invalid_id`)"))
);

named_schema!(
    /// A region code of any level.
    RegionCode,
    string()
        .pattern(Some(region_code_pattern()))
        .description(Some(
            "A region code: 12 digits for a division (city `510100000000`, district `510104000000`, street `510104018000`, community `510104018001`; once a group is zero every lower one is), 15 for a grid, 18 for a micro-grid (their own groups never `000`); else `400 invalid_region_code`",
        ))
        .examples([json!("510104018001")])
);

named_schema!(
    /// A grid or micro-grid code.
    GridCode,
    string()
        .pattern(Some(grid_code_pattern()))
        .description(Some(
            "A grid code (15 digits) or micro-grid code (18 digits); else `400 invalid_region_code` or `400 not_a_grid`",
        ))
        .examples([json!("510104018001001")])
);

named_schema!(
    /// What the indicators are of: a region, or a slice of the whole city.
    IndicatorScope,
    string()
        .pattern(Some(format!(
            "^\\s*({}|(unit|cat|src):[\\s\\S]*)\\s*$",
            region_code_group()
        )))
        .description(Some(
            "A region code, or (city-wide command only) `unit:CODE`, `cat:CODE`, `src:CODE`",
        ))
        .examples([json!("510104000000")])
);

named_schema!(
    /// The size of a page.
    Limit,
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(500))
        .default(Some(Value::from(50)))
        .description(Some("Items per page, 1 to 500 (else `400 invalid_limit`)"))
);

named_schema!(
    /// A calendar day.
    Day,
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
        .description(Some("A day as `YYYY-MM-DD` (else `400 invalid_date`)"))
        .examples([json!("2026-11-23")])
);

named_schema!(
    /// A key-population tag.
    KeyTag,
    one_of(
        shezhi_domain::people::KeyTag::ALL
            .iter()
            .map(|t| t.as_str())
    )
    .description(Some("A key-population tag (else `400 invalid_tag`)"))
);

named_schema!(
    /// A case's stage.
    CaseStage,
    one_of(
        shezhi_domain::cases::Stage::ALL
            .iter()
            .map(|t| t.as_str())
    )
    .description(Some("A case's stage (else `400 invalid_stage`)"))
);

named_schema!(
    /// Where a case came from, as a staff member may state it.
    CaseSource,
    one_of(
        shezhi_domain::cases::Source::ALL
            .iter()
            .filter(|s| !matches!(s, shezhi_domain::cases::Source::Campaign))
            .map(|s| s.as_str())
    )
    .description(Some(
        "Staff only (else `403`): where the report came from (else `400 invalid_source`)"
    ))
);

named_schema!(
    /// A step a caller may ask for on a case.
    StepName,
    {
        use shezhi_domain::cases::Step;
        one_of(
            Step::ALL
                .iter()
                .filter(|s| !matches!(s, Step::Report | Step::Warn | Step::Overdue))
                .map(|s| s.as_str()),
        )
        .description(Some("A step (else `400 invalid_step`)"))
    }
);

named_schema!(
    /// How satisfied a reporter is.
    Satisfaction,
    one_of(
        shezhi_domain::cases::Satisfaction::ALL
            .iter()
            .map(|s| s.as_str())
    )
    .description(Some("Satisfaction (else `400 invalid_satisfaction`)"))
);

named_schema!(
    /// A level a directive is sent to.
    TargetLevel,
    one_of(
        shezhi_domain::campaigns::TargetLevel::ALL
            .iter()
            .map(|s| s.as_str())
    )
    .description(Some("A target level (else `400 invalid_level`)"))
);

named_schema!(
    /// The kind of building a campaign targets.
    BuildingType,
    one_of(
        shezhi_domain::campaigns::BuildingType::ALL
            .iter()
            .map(|s| s.as_str())
    )
    .description(Some("A building type (else `400 invalid_building_type`)"))
);

named_schema!(
    /// How a household visit went.
    VisitOutcome,
    one_of(
        shezhi_domain::campaigns::Outcome::ALL
            .iter()
            .map(|s| s.as_str())
    )
    .description(Some("How the visit went"))
);

named_schema!(
    /// What kind of matter a category is.
    CategoryKind,
    one_of(
        shezhi_domain::cases::catalogue::CategoryKind::ALL
            .iter()
            .map(|s| s.as_str())
    )
);

named_schema!(
    /// How urgent a category is.
    Priority,
    one_of(
        shezhi_domain::cases::catalogue::Priority::ALL
            .iter()
            .map(|s| s.as_str())
    )
);

named_schema!(
    /// The kind of unit that handles a category.
    UnitKind,
    one_of(
        shezhi_domain::cases::catalogue::UnitKind::ALL
            .iter()
            .map(|s| s.as_str())
    )
);

named_schema!(
    /// A photo's bytes.
    PhotoData,
    string()
        .pattern(Some(
            "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}(==)?|[A-Za-z0-9+/]{3}=?)?$"
        ))
        .min_length(Some(2))
        .description(Some(
            "The photo's bytes in standard base64 (RFC 4648), padded or not: a whole JPEG, PNG or WebP image (else `400 invalid_photo`)"
        ))
);

named_schema!(
    /// A field of personal data that can be shown in clear.
    RevealField,
    one_of(["id_number", "phone"]).description(Some("A field to reveal (else `400 invalid_field`)"))
);

named_schema!(
    /// Standard base64 (RFC 4648) text.
    Base64,
    string()
        .pattern(Some(
            "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}(==)?|[A-Za-z0-9+/]{3}=?)?$"
        ))
        .description(Some("Bytes in standard base64 (RFC 4648), padded or not"))
);

/// Registers the named schemas in the document's components (operations refer to them).
pub fn register(doc: &mut utoipa::openapi::OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    let mut add = |name: Cow<'static, str>, schema: RefOr<Schema>| {
        components.schemas.insert(name.into_owned(), schema);
    };
    add(RecordId::name(), RecordId::schema());
    add(RegionCode::name(), RegionCode::schema());
    add(GridCode::name(), GridCode::schema());
    add(IndicatorScope::name(), IndicatorScope::schema());
    add(Limit::name(), Limit::schema());
    add(Day::name(), Day::schema());
    add(KeyTag::name(), KeyTag::schema());
    add(CaseStage::name(), CaseStage::schema());
    add(CaseSource::name(), CaseSource::schema());
    add(StepName::name(), StepName::schema());
    add(Satisfaction::name(), Satisfaction::schema());
    add(TargetLevel::name(), TargetLevel::schema());
    add(BuildingType::name(), BuildingType::schema());
    add(VisitOutcome::name(), VisitOutcome::schema());
    add(Base64::name(), Base64::schema());
    add(RevealField::name(), RevealField::schema());
    add(PhotoData::name(), PhotoData::schema());
    add(CategoryKind::name(), CategoryKind::schema());
    add(Priority::name(), Priority::schema());
    add(UnitKind::name(), UnitKind::schema());
}

#[cfg(test)]
mod tests {
    use super::*;
    use shezhi_domain::territory::{Level, RegionCode as Code};

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .is_match(s)
    }

    /// Every code of the given lengths built from groups that are zero, one, or high, and a
    /// spread of other digits: the pattern and the parser agree on each.
    #[test]
    fn the_region_code_patterns_accept_exactly_what_the_parser_accepts() {
        let groups2 = ["00", "01", "10", "99"];
        let groups3 = ["000", "001", "010", "100", "999"];
        let mut tried = 0;
        for p in ["00", "51"] {
            for c in groups2 {
                for d in groups2 {
                    for s in groups3 {
                        for m in groups3 {
                            let base = format!("{p}{c}{d}{s}{m}");
                            let mut codes = vec![base.clone()];
                            for g in groups3 {
                                codes.push(format!("{base}{g}"));
                                for mg in groups3 {
                                    codes.push(format!("{base}{g}{mg}"));
                                }
                            }
                            for code in codes {
                                tried += 1;
                                let parsed = Code::parse(&code);
                                assert_eq!(
                                    matches(&region_code_pattern(), &code),
                                    parsed.is_ok(),
                                    "region pattern vs parser on {code}"
                                );
                                let grid = parsed.as_ref().is_ok_and(|c| {
                                    matches!(c.level(), Level::Grid | Level::MicroGrid)
                                });
                                assert_eq!(
                                    matches(&grid_code_pattern(), &code),
                                    grid,
                                    "grid pattern vs parser on {code}"
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(tried > 10_000);
        for bad in [
            "",
            "5101040000",
            "51010400000a",
            "５１０１０４０００００００",
            "5101040000000",
        ] {
            assert!(!matches(&region_code_pattern(), bad), "{bad}");
            assert!(Code::parse(bad).is_err(), "{bad}");
        }
    }
}
