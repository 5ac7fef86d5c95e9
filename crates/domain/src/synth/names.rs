//! Fictitious Chinese names and place names. Surnames are weighted roughly as they are
//! common in Sichuan; given names are one or two characters from lists that lean male,
//! female or neither. Any likeness to a real person is chance.

use super::rng::Rng;
use crate::people::Sex;

/// Surnames with relative weights.
const SURNAMES: &[(&str, u32)] = &[
    ("王", 70),
    ("李", 80),
    ("张", 60),
    ("刘", 55),
    ("陈", 60),
    ("杨", 45),
    ("黄", 25),
    ("赵", 22),
    ("吴", 20),
    ("周", 22),
    ("徐", 15),
    ("孙", 10),
    ("马", 10),
    ("朱", 12),
    ("胡", 14),
    ("郭", 10),
    ("何", 18),
    ("林", 8),
    ("罗", 20),
    ("高", 9),
    ("郑", 7),
    ("梁", 7),
    ("谢", 12),
    ("宋", 6),
    ("唐", 14),
    ("许", 6),
    ("韩", 5),
    ("邓", 14),
    ("冯", 6),
    ("曹", 5),
    ("彭", 10),
    ("曾", 10),
    ("肖", 10),
    ("田", 6),
    ("董", 5),
    ("袁", 8),
    ("潘", 4),
    ("蒋", 10),
    ("蔡", 4),
    ("余", 9),
    ("杜", 7),
    ("叶", 4),
    ("程", 5),
    ("魏", 5),
    ("苏", 5),
    ("吕", 4),
    ("丁", 4),
    ("任", 6),
    ("卢", 4),
    ("姚", 4),
    ("沈", 3),
    ("钟", 6),
    ("姜", 3),
    ("崔", 2),
    ("谭", 6),
    ("陆", 2),
    ("范", 4),
    ("汪", 3),
    ("廖", 8),
    ("石", 4),
    ("金", 2),
    ("贾", 3),
    ("夏", 3),
    ("付", 6),
    ("方", 3),
    ("邹", 4),
    ("熊", 4),
    ("白", 3),
    ("孟", 2),
    ("秦", 3),
    ("邱", 4),
    ("侯", 3),
    ("江", 4),
    ("尹", 3),
    ("薛", 2),
    ("闫", 2),
    ("段", 3),
    ("雷", 4),
    ("龙", 3),
    ("黎", 3),
    ("史", 2),
    ("陶", 3),
    ("贺", 3),
    ("毛", 3),
    ("郝", 2),
    ("顾", 2),
    ("龚", 3),
    ("邵", 2),
    ("万", 3),
    ("覃", 1),
    ("武", 2),
    ("钱", 2),
    ("戴", 2),
    ("严", 3),
    ("莫", 2),
    ("孔", 2),
    ("向", 4),
    ("常", 2),
    ("汤", 2),
    ("康", 2),
    ("易", 3),
    ("乔", 1),
    ("赖", 3),
    ("文", 3),
    ("欧阳", 1),
    ("司马", 1),
    ("诸葛", 1),
];

const MALE: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "洋", "建", "国",
    "志", "文", "德", "成", "海", "峰", "晨", "昊", "博", "睿", "轩", "泽", "航", "川", "锐", "毅",
    "诚", "达", "亮", "松", "彬", "豪", "杨", "宏", "兴", "福", "贵", "荣",
];

const FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "玲", "燕", "萍", "红", "琳", "雪",
    "梅", "琴", "婷", "慧", "倩", "洁", "颖", "欣", "怡", "佳", "悦", "琪", "涵", "萱", "蓉", "兰",
    "莉", "薇", "菲", "露", "瑶", "晶", "璐", "妍", "月", "春", "凤", "桂", "珍", "淑", "晓", "思",
    "雨", "诗", "梦", "丹", "蕾", "岚", "媛", "嘉", "琼", "翠", "芬", "宁",
];

const EITHER: &[&str] = &[
    "子", "一", "心", "安", "乐", "文", "思", "雨", "晓", "清", "嘉", "明", "天", "若", "知", "可",
    "星", "辰", "言", "家", "欣", "然", "之", "远", "舒", "蓝", "青", "和", "宜", "书",
];

fn surname_weights() -> &'static [u32] {
    static W: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    W.get_or_init(|| SURNAMES.iter().map(|(_, w)| *w).collect())
}

fn pick(rng: &mut Rng, list: &[&'static str]) -> &'static str {
    list[rng.below(list.len() as u64) as usize]
}

pub fn surname(rng: &mut Rng) -> &'static str {
    SURNAMES[rng.weighted(surname_weights())].0
}

/// A full name; children mostly take `family` (the father's surname).
pub fn person(rng: &mut Rng, sex: Sex, family: Option<&str>) -> String {
    let s = match family {
        Some(f) if !rng.chance(0.08) => f,
        _ => surname(rng),
    };
    let list = match sex {
        Sex::Male => MALE,
        Sex::Female => FEMALE,
    };
    let mut name = String::with_capacity(12);
    name.push_str(s);
    if rng.chance(0.72) {
        let first: &[&str] = if rng.chance(0.4) { EITHER } else { list };
        name.push_str(pick(rng, first));
    }
    name.push_str(pick(rng, list));
    name
}

const COMPOUND_HEAD: &[&str] = &[
    "锦", "华", "龙", "蓉", "金", "天", "翠", "蓝", "新", "东", "南", "西", "北", "城", "府", "江",
    "河", "桂", "芙", "海", "阳", "光", "绿", "青", "银", "星", "紫", "嘉", "和", "安",
];
const COMPOUND_MID: &[&str] = &[
    "庭", "苑", "湖", "城", "都", "景", "湾", "岸", "林", "山", "悦", "雅", "馨", "盛", "泰",
];
const COMPOUND_TAIL: &[&str] = &[
    "小区", "花园", "家园", "苑", "公馆", "雅居", "新城", "府", "名居", "佳苑", "华庭", "上城",
];

/// A fictitious residential compound name such as 锦湖花园.
pub fn compound(rng: &mut Rng) -> String {
    format!(
        "{}{}{}",
        rng.pick(COMPOUND_HEAD),
        rng.pick(COMPOUND_MID),
        rng.pick(COMPOUND_TAIL)
    )
}

/// An older courtyard (院落) named after a street number.
pub fn courtyard(rng: &mut Rng) -> String {
    const LANE: &[&str] = &["街", "巷", "路", "里"];
    format!(
        "{}{}{}号院",
        rng.pick(COMPOUND_HEAD),
        rng.pick(LANE),
        rng.range(1, 199)
    )
}
