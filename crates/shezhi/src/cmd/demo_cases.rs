//! The demo's cases: 锦江区's departments and utilities as handling units, and a week of
//! reports from every channel taken through the real workflow to every stage (some late, so
//! that the sweeper has overdue work when the server starts). Deterministic from a seed;
//! made once per database.

use super::CliError;
use shezhi_domain::calendar::WorkCalendar;
use shezhi_domain::cases::{Capacity, Satisfaction, Source, Step};
use shezhi_domain::synth::rng::Rng;
use shezhi_domain::territory::{Level, RegionCode};
use shezhi_store::Store;
use shezhi_store::access::HandlingUnit;
use shezhi_store::cases::{NewCase, StepInput};

const DISTRICT: &str = "510104000000";
const HOUR: i64 = 3_600_000;

/// (code suffix, name, kind) of 锦江区's handling units.
const UNITS: &[(&str, &str, &str)] = &[
    ("CG", "锦江区城市管理局", "urban_management"),
    ("ZJ", "锦江区住房和城乡建设局", "housing"),
    ("SJ", "锦江区市场监督管理局", "market_regulation"),
    ("GA", "成都市公安局锦江区分局", "public_security"),
    ("XF", "锦江区消防救援大队", "fire"),
    ("WJ", "锦江区卫生健康局", "health"),
    ("SW", "锦江区水务局", "water"),
    ("JT", "锦江区交通运输局", "transport"),
    ("YL", "锦江区公园城市建设和城市更新局", "greening"),
    ("MZ", "锦江区民政局", "civil_affairs"),
    ("RS", "锦江区人力资源和社会保障局", "human_resources"),
    ("ST", "锦江生态环境局", "ecology"),
    ("SF", "锦江区司法局", "justice"),
    ("GD", "国网成都供电公司锦江供电中心", "power"),
    ("RQ", "成都燃气锦江服务站", "gas"),
    ("WY", "锦江区物业服务企业联合会", "property"),
];

/// The unit code for a category's unit kind.
fn unit_for(kind: &str) -> String {
    let suffix = UNITS
        .iter()
        .find(|(_, _, k)| *k == kind)
        .map_or("CG", |(s, _, _)| s);
    format!("510104-{suffix}")
}

const REPORTS: &[(&str, &str)] = &[
    ("order.vendor", "小区门口有人占道摆摊，早晚高峰堵住人行道"),
    ("appearance.garbage", "路口垃圾堆放两天无人清运，气味很大"),
    ("facility.streetlight", "巷子里三盏路灯不亮，晚上很黑"),
    ("facility.manhole", "人行道井盖松动，踩上去会翻"),
    ("property.service", "物业长期不清扫楼道，业主多次反映无果"),
    ("property.elevator", "3栋电梯经常停运，老人上下楼困难"),
    ("environment.noise", "楼下餐馆夜间排风机噪声扰民"),
    ("environment.pollution", "临街餐馆油烟直排，窗户都是油"),
    ("safety.ebike", "楼道里有人飞线给电动车充电"),
    ("safety.fire", "小区消防通道被私家车长期占用"),
    ("dispute.neighbour", "楼上住户装修噪声与邻居发生争执"),
    ("construction.noise", "工地夜间十一点后仍在施工"),
    ("greenery.tree", "大风后行道树倾斜压住电线"),
    ("elderly.service", "独居老人希望申请助餐服务"),
    ("service.certificate", "需要开具居住证明"),
    ("order.parking", "小区外道路两侧违停严重"),
];

/// Make the units and, if the database has no cases yet, `n` demo cases over the past week.
pub async fn seed(
    store: &Store,
    cal: &WorkCalendar,
    now: i64,
    n: usize,
) -> Result<usize, CliError> {
    let units: Vec<HandlingUnit> = UNITS
        .iter()
        .map(|(s, name, kind)| HandlingUnit {
            code: format!("510104-{s}"),
            name: (*name).into(),
            kind: (*kind).into(),
            region_code: DISTRICT.into(),
        })
        .collect();
    store.put_units(&units).await?;
    let district = RegionCode::parse(DISTRICT).map_err(|e| CliError::Config(e.to_string()))?;
    let any = store
        .cases(None, &shezhi_store::cases::CaseFilter::default(), None, 1)
        .await?;
    if !any.items.is_empty() {
        return Ok(0);
    }
    let cells = store.subtree_level(&district, Level::MicroGrid).await?;
    if cells.is_empty() {
        return Ok(0);
    }
    let catalogue = store.categories().await?;
    let resident = store
        .user_by_username("jumin")
        .await?
        .map(|u| format!("user:{}", u.id));
    let mut rng = Rng::new(20261124);
    let mut made = 0;
    for i in 0..n {
        let cell = &cells[rng.below(cells.len() as u64) as usize];
        let (category, text) = REPORTS[rng.below(REPORTS.len() as u64) as usize];
        let source = *rng.pick(&[
            Source::Resident,
            Source::Resident,
            Source::Patrol,
            Source::Hotline,
            Source::Clue,
        ]);
        let at = now - rng.range(HOUR, 7 * 24 * HOUR);
        let code = RegionCode::parse(&cell.code).map_err(|e| CliError::Config(e.to_string()))?;
        let reporter = match (&resident, i % 10) {
            (Some(r), 0) => r.clone(),
            _ => format!("user:demo-{}", rng.below(5_000)),
        };
        let report = NewCase {
            source,
            category: category.into(),
            title: String::new(),
            description: text.into(),
            cell: code,
            point: cell.center,
            address: format!("{}附近", cell.name),
            reporter: reporter.clone(),
            contact: None,
            photos: Vec::new(),
            idempotency: None,
            ip: None,
        };
        let answer = store.intake_batch(&[report], None, at, cal).await?.pop();
        let Some(Ok(intake)) = answer else { continue };
        made += 1;
        let unit = catalogue
            .iter()
            .find(|c| c.code == category)
            .map(|c| unit_for(c.unit_kind.as_str()))
            .unwrap_or_else(|| unit_for("urban_management"));
        // How far this case has come, and how fast.
        let depth = rng.below(8);
        let mut t = at;
        let mut walk = Vec::new();
        if source == Source::Patrol && depth == 7 {
            walk.push((Step::SolveOnSpot, Capacity::GridWorker));
        } else {
            if source != Source::Hotline && depth >= 2 {
                walk.push((Step::Escalate, Capacity::LevelStaff));
            }
            let steps = [
                (Step::Accept, Capacity::LevelStaff),
                (Step::Dispatch, Capacity::LevelStaff),
                (Step::Sign, Capacity::LeadUnit),
                (Step::Feedback, Capacity::LeadUnit),
                (Step::Verify, Capacity::LevelStaff),
                (Step::Rate, Capacity::Reporter),
            ];
            walk.extend(steps.iter().take(depth.saturating_sub(1) as usize).copied());
        }
        let mut stage = intake.stage.clone();
        for (s, by) in walk {
            t += rng.range(HOUR / 4, 20 * HOUR);
            if t >= now {
                break;
            }
            let input = StepInput {
                step: Some(s),
                by: vec![by],
                actor: if by == Capacity::Reporter {
                    reporter.clone()
                } else {
                    "system:demo".into()
                },
                note: match s {
                    Step::Feedback | Step::SolveOnSpot => "已到现场处置完毕，附整改情况".into(),
                    _ => "按流程办理".into(),
                },
                units: if s == Step::Dispatch {
                    vec![unit.clone()]
                } else {
                    Vec::new()
                },
                satisfaction: (s == Step::Rate).then(|| {
                    *rng.pick(&[
                        Satisfaction::Satisfied,
                        Satisfaction::Satisfied,
                        Satisfaction::Basic,
                        Satisfaction::Unsatisfied,
                    ])
                }),
                ..StepInput::default()
            };
            match store.take_step(intake.id, &input, t, cal).await {
                Ok(done) => stage = done.stage,
                Err(_) => break,
            }
        }
        // A third of the cases that were taken up have a public description, as staff
        // would write it: the problem and how far it is, no words of the reporter.
        if stage != "reported" && rng.below(3) == 0 {
            let name = catalogue
                .iter()
                .find(|c| c.code == category)
                .map(|c| c.name_zh.clone())
                .unwrap_or_default();
            let how = match stage.as_str() {
                "closed" => "已处置完毕，经社区核实结案",
                "merged" => "与同一问题合并办理",
                "rejected" => "经核实不属于受理范围",
                _ => "已受理，正在按流程办理",
            };
            let publish = StepInput {
                step: Some(Step::Publish),
                by: vec![
                    Capacity::LevelStaff,
                    Capacity::Supervisor,
                    Capacity::LocalCommunity,
                ],
                actor: "system:demo".into(),
                note: format!("{}附近的{name}问题{how}。", cell.name),
                ..StepInput::default()
            };
            store
                .take_step(intake.id, &publish, (t + HOUR / 4).min(now), cal)
                .await?;
        }
    }
    Ok(made)
}
