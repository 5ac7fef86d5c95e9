//! The case catalogue: what a case can be about. Components (部件) and events (事件) follow the
//! digital city management standard's classes (GB/T 30428); social governance appeals (诉求)
//! are the ones the seeds name. Each category carries the kind of unit that usually handles
//! it, a priority, time limits per stage, and its public Open311 `service_code`. This is the
//! built-in first version; administrators edit the stored copy.

use crate::calendar::TimeLimit;
use crate::labelled_enum;

labelled_enum! {
    pub enum CategoryKind {
        Component = ("component", "部件"),
        Event = ("event", "事件"),
        Appeal = ("appeal", "诉求"),
    }
}

labelled_enum! {
    pub enum Priority {
        Urgent = ("urgent", "紧急"),
        High = ("high", "较急"),
        Normal = ("normal", "一般"),
    }
}

labelled_enum! {
    /// Kinds of handling unit (职能部门、公用事业、物业、街道社区).
    pub enum UnitKind {
        UrbanManagement = ("urban_management", "城管"),
        Housing = ("housing", "住建"),
        MarketRegulation = ("market_regulation", "市场监管"),
        PublicSecurity = ("public_security", "公安"),
        Fire = ("fire", "消防"),
        Health = ("health", "卫健"),
        Water = ("water", "水务"),
        Transport = ("transport", "交通"),
        Greening = ("greening", "园林绿化"),
        CivilAffairs = ("civil_affairs", "民政"),
        HumanResources = ("human_resources", "人社"),
        Ecology = ("ecology", "生态环境"),
        Justice = ("justice", "司法"),
        Power = ("power", "供电"),
        Gas = ("gas", "燃气"),
        Property = ("property", "物业公司"),
        StreetOffice = ("street_office", "街道办事处"),
        CommunityOffice = ("community_office", "社区居委会"),
    }
}

/// Time limits of each stage a clock runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StageLimits {
    /// Reported → accepted or rejected.
    pub accept: TimeLimit,
    /// Accepted → dispatched.
    pub dispatch: TimeLimit,
    /// Dispatched → signed (and each assisting unit's check-in).
    pub sign: TimeLimit,
    /// Signed → fed back.
    pub handle: TimeLimit,
    /// Fed back → verified.
    pub verify: TimeLimit,
}

impl Priority {
    /// The limits a category of this priority gets unless it says otherwise.
    pub fn limits(self) -> StageLimits {
        use TimeLimit::*;
        match self {
            Priority::Urgent => StageLimits {
                accept: Hours(1),
                dispatch: Hours(1),
                sign: Hours(1),
                handle: SameDay,
                verify: Hours(4),
            },
            Priority::High => StageLimits {
                accept: Hours(2),
                dispatch: Hours(4),
                sign: Hours(4),
                handle: WorkingDays(1),
                verify: WorkingDays(1),
            },
            Priority::Normal => StageLimits {
                accept: WorkingDays(1),
                dispatch: WorkingDays(1),
                sign: WorkingDays(1),
                handle: WorkingDays(5),
                verify: WorkingDays(2),
            },
        }
    }
}

/// One category of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Category {
    /// Stable code, also the Open311 `service_code`, e.g. `event.street_vendor`.
    pub code: String,
    /// The group it belongs to (None for a top group).
    pub parent: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    pub kind: CategoryKind,
    /// Groups organise; only leaves are chosen for a case.
    pub leaf: bool,
    pub unit_kind: UnitKind,
    pub priority: Priority,
    pub limits: StageLimits,
    /// Words people use for it, to suggest the category from a description.
    pub keywords: Vec<String>,
}

type Row = (
    &'static str,
    &'static str,
    &'static str,
    UnitKind,
    Priority,
    &'static str,
);

use Priority::*;
use UnitKind::*;

/// (code, 中文, English, unit kind, priority, keywords separated by spaces). A code without a
/// dot is a group; `group.leaf` belongs to its group.
const BUILT_IN: &[(CategoryKind, &[Row])] = &[
    (
        CategoryKind::Component,
        &[
            (
                "facility",
                "公用设施",
                "Public facilities",
                UrbanManagement,
                Normal,
                "",
            ),
            (
                "facility.manhole",
                "井盖破损缺失",
                "Damaged or missing manhole cover",
                UrbanManagement,
                High,
                "井盖 窨井 下水道盖",
            ),
            (
                "facility.streetlight",
                "路灯故障",
                "Street light out",
                UrbanManagement,
                Normal,
                "路灯 不亮 灯坏",
            ),
            (
                "facility.hydrant",
                "消火栓损坏",
                "Damaged fire hydrant",
                Fire,
                High,
                "消火栓 消防栓",
            ),
            (
                "traffic",
                "交通设施",
                "Traffic facilities",
                Transport,
                Normal,
                "",
            ),
            (
                "traffic.signal",
                "信号灯故障",
                "Traffic signal fault",
                PublicSecurity,
                High,
                "红绿灯 信号灯",
            ),
            (
                "traffic.bus_stop",
                "公交站亭损坏",
                "Damaged bus shelter",
                Transport,
                Normal,
                "公交站 站台 站亭",
            ),
            (
                "sanitation",
                "市容环卫设施",
                "Sanitation facilities",
                UrbanManagement,
                Normal,
                "",
            ),
            (
                "sanitation.bin",
                "垃圾桶破损满溢",
                "Broken or overflowing bin",
                UrbanManagement,
                Normal,
                "垃圾桶 垃圾箱 满溢",
            ),
            (
                "sanitation.toilet",
                "公厕设施损坏",
                "Public toilet fault",
                UrbanManagement,
                Normal,
                "公厕 厕所",
            ),
            (
                "greenery",
                "园林绿化设施",
                "Parks and greenery",
                Greening,
                Normal,
                "",
            ),
            (
                "greenery.tree",
                "行道树倒伏缺株",
                "Fallen or missing street tree",
                Greening,
                High,
                "树 倒伏 树枝",
            ),
            (
                "greenery.lawn",
                "绿地破坏",
                "Damaged green space",
                Greening,
                Normal,
                "绿地 草坪 踩踏",
            ),
        ],
    ),
    (
        CategoryKind::Event,
        &[
            (
                "appearance",
                "市容环境",
                "City appearance",
                UrbanManagement,
                Normal,
                "",
            ),
            (
                "appearance.garbage",
                "暴露垃圾",
                "Exposed garbage",
                UrbanManagement,
                Normal,
                "垃圾 堆放 脏乱",
            ),
            (
                "appearance.dumping",
                "乱倒建筑垃圾",
                "Illegal dumping of debris",
                UrbanManagement,
                Normal,
                "建筑垃圾 乱倒 倾倒",
            ),
            (
                "advertising",
                "宣传广告",
                "Advertising",
                UrbanManagement,
                Normal,
                "",
            ),
            (
                "advertising.flyers",
                "非法小广告",
                "Illegal flyers and graffiti",
                UrbanManagement,
                Normal,
                "小广告 涂鸦 牛皮癣",
            ),
            (
                "construction",
                "施工管理",
                "Construction",
                Housing,
                Normal,
                "",
            ),
            (
                "construction.noise",
                "施工扰民",
                "Construction disturbance",
                Housing,
                Normal,
                "施工 夜间施工 噪音",
            ),
            (
                "construction.muck",
                "渣土车遗撒",
                "Spilled muck from trucks",
                UrbanManagement,
                High,
                "渣土 遗撒 泥土",
            ),
            (
                "order",
                "街面秩序",
                "Street order",
                UrbanManagement,
                Normal,
                "",
            ),
            (
                "order.vendor",
                "占道经营",
                "Street vending on the road",
                UrbanManagement,
                Normal,
                "占道 摆摊 小贩 流动摊贩",
            ),
            (
                "order.parking",
                "违章停车",
                "Illegal parking",
                PublicSecurity,
                Normal,
                "停车 乱停 占用",
            ),
            (
                "emergency",
                "突发事件",
                "Emergencies",
                UrbanManagement,
                Urgent,
                "",
            ),
            (
                "emergency.road_collapse",
                "道路塌陷",
                "Road collapse",
                Housing,
                Urgent,
                "塌陷 路面 坑",
            ),
            (
                "emergency.pipe_burst",
                "供水管道爆裂",
                "Burst water main",
                Water,
                Urgent,
                "爆管 漏水 水管",
            ),
            (
                "emergency.gas_leak",
                "燃气泄漏",
                "Gas leak",
                Gas,
                Urgent,
                "燃气 天然气 煤气 泄漏",
            ),
        ],
    ),
    (
        CategoryKind::Appeal,
        &[
            (
                "dispute",
                "矛盾纠纷",
                "Disputes",
                CommunityOffice,
                Normal,
                "",
            ),
            (
                "dispute.neighbour",
                "邻里纠纷",
                "Neighbour dispute",
                CommunityOffice,
                Normal,
                "邻居 邻里 楼上 吵架",
            ),
            (
                "dispute.family",
                "婚姻家庭纠纷",
                "Family dispute",
                CommunityOffice,
                Normal,
                "家庭 婚姻 赡养",
            ),
            (
                "dispute.labour",
                "劳动欠薪纠纷",
                "Labour and unpaid wages",
                HumanResources,
                High,
                "欠薪 工资 劳动",
            ),
            ("safety", "安全隐患", "Safety hazards", Fire, High, ""),
            (
                "safety.fire",
                "消防隐患",
                "Fire hazard",
                Fire,
                High,
                "消防 通道 堵塞 灭火器",
            ),
            (
                "safety.ebike",
                "电动车违规充电",
                "Unsafe e-bike charging",
                Fire,
                High,
                "电动车 电瓶车 充电 飞线",
            ),
            (
                "safety.building",
                "房屋安全隐患",
                "Unsafe building",
                Housing,
                High,
                "危房 裂缝 墙体",
            ),
            (
                "property",
                "物业管理",
                "Property management",
                Property,
                Normal,
                "",
            ),
            (
                "property.service",
                "物业服务",
                "Property service",
                Property,
                Normal,
                "物业 保洁 收费",
            ),
            (
                "property.elevator",
                "电梯故障",
                "Lift fault",
                MarketRegulation,
                High,
                "电梯 困人 停运",
            ),
            (
                "property.water_outage",
                "停水",
                "No water supply",
                Water,
                High,
                "停水 没水 水压",
            ),
            (
                "property.power_outage",
                "停电",
                "Power cut",
                Power,
                High,
                "停电 断电 没电",
            ),
            (
                "elderly",
                "养老服务",
                "Elderly care",
                CivilAffairs,
                Normal,
                "",
            ),
            (
                "elderly.help",
                "独居老人求助",
                "Elderly person living alone needs help",
                CivilAffairs,
                Urgent,
                "独居 老人 摔倒 求助",
            ),
            (
                "elderly.service",
                "养老服务需求",
                "Elderly care service",
                CivilAffairs,
                Normal,
                "养老 助餐 照料",
            ),
            (
                "food",
                "食品安全",
                "Food safety",
                MarketRegulation,
                High,
                "",
            ),
            (
                "food.safety",
                "食品安全问题",
                "Food safety problem",
                MarketRegulation,
                High,
                "食品 过期 变质 餐馆 卫生",
            ),
            (
                "environment",
                "生态环境",
                "Environment",
                Ecology,
                Normal,
                "",
            ),
            (
                "environment.noise",
                "噪声扰民",
                "Noise nuisance",
                Ecology,
                Normal,
                "噪声 噪音 扰民 广场舞",
            ),
            (
                "environment.pollution",
                "排污油烟",
                "Pollution and cooking fumes",
                Ecology,
                Normal,
                "油烟 排污 异味 污水",
            ),
            (
                "service",
                "公共服务",
                "Public services",
                CommunityOffice,
                Normal,
                "",
            ),
            (
                "service.certificate",
                "证明事项办理",
                "Certificates",
                CommunityOffice,
                Normal,
                "证明 开证明 盖章",
            ),
            (
                "service.policy",
                "政策咨询",
                "Policy enquiry",
                CommunityOffice,
                Normal,
                "咨询 政策 补贴 低保",
            ),
            ("other", "其他", "Other", CommunityOffice, Normal, ""),
            (
                "other.other",
                "其他问题",
                "Other problem",
                CommunityOffice,
                Normal,
                "",
            ),
        ],
    ),
];

/// The built-in catalogue, groups before their leaves.
pub fn built_in() -> Vec<Category> {
    let mut out = Vec::new();
    for (kind, rows) in BUILT_IN {
        for (code, zh, en, unit, priority, words) in rows.iter() {
            let parent = code.split_once('.').map(|(g, _)| g.to_string());
            out.push(Category {
                code: (*code).to_string(),
                leaf: parent.is_some(),
                parent,
                name_zh: (*zh).to_string(),
                name_en: (*en).to_string(),
                kind: *kind,
                unit_kind: *unit,
                priority: *priority,
                limits: priority.limits(),
                keywords: words.split_whitespace().map(str::to_string).collect(),
            });
        }
    }
    out
}

/// Leaf categories whose keywords or name occur in `text`, best first (most characters
/// matched), at most `n`.
pub fn suggest<'a>(catalogue: &'a [Category], text: &str, n: usize) -> Vec<&'a Category> {
    let mut scored: Vec<(usize, &Category)> = catalogue
        .iter()
        .filter(|c| c.leaf)
        .filter_map(|c| {
            let score: usize = c
                .keywords
                .iter()
                .chain(std::iter::once(&c.name_zh))
                .filter(|k| text.contains(k.as_str()))
                .map(|k| k.chars().count())
                .sum();
            (score > 0).then_some((score, c))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.code.cmp(&b.1.code)));
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_every_leaf_has_its_group() {
        let all = built_in();
        let mut codes: Vec<&str> = all.iter().map(|c| c.code.as_str()).collect();
        codes.sort();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n, "duplicate codes");
        for c in all.iter().filter(|c| c.leaf) {
            let p = c.parent.as_deref().unwrap_or_default();
            assert!(all.iter().any(|g| g.code == p && !g.leaf), "{}", c.code);
        }
        assert!(all.iter().filter(|c| c.leaf).count() >= 35);
    }

    #[test]
    fn suggestions_follow_the_words_people_use() {
        let all = built_in();
        let s = suggest(&all, "楼下有人占道摆摊，还有小贩", 3);
        assert_eq!(s.first().map(|c| c.code.as_str()), Some("order.vendor"));
        let s = suggest(&all, "小区电动车在楼道飞线充电", 3);
        assert_eq!(s.first().map(|c| c.code.as_str()), Some("safety.ebike"));
        assert!(suggest(&all, "hello", 3).is_empty());
    }
}
