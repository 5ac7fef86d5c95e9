//! The register of houses and people (先房后人): the closed vocabularies it is kept in, and
//! the validated identity card numbers, phones and dates it holds.

pub mod date;
pub mod idcard;
pub mod phone;
pub mod privacy;

pub use date::Date;
pub use idcard::{IdCardError, IdNumber};
pub use phone::{Phone, PhoneError};

crate::labelled_enum! {
    pub enum Sex {
        Male = ("male", "男"),
        Female = ("female", "女"),
    }
}

crate::labelled_enum! {
    /// Where a resident's household registration (户籍) is, relative to where they live.
    pub enum Residence {
        Registered = ("registered", "户籍人口"),
        Floating = ("floating", "流动人口"),
        Overseas = ("overseas", "境外人员"),
    }
}

crate::labelled_enum! {
    /// Relation to the head of the household (与户主关系).
    pub enum Relation {
        Head = ("head", "户主"),
        Spouse = ("spouse", "配偶"),
        Child = ("child", "子女"),
        Parent = ("parent", "父母"),
        Grandchild = ("grandchild", "孙子女"),
        Grandparent = ("grandparent", "祖父母"),
        Sibling = ("sibling", "兄弟姐妹"),
        ChildInLaw = ("child_in_law", "儿媳/女婿"),
        Other = ("other", "其他"),
    }
}

crate::labelled_enum! {
    /// Whether a person still lives at the household. Leaving never deletes the record.
    pub enum PersonStatus {
        Present = ("present", "在住"),
        MovedOut = ("moved_out", "已迁出"),
        Deceased = ("deceased", "已死亡"),
    }
}

crate::labelled_enum! {
    pub enum HouseholdStatus {
        Active = ("active", "在住"),
        Dissolved = ("dissolved", "已注销"),
    }
}

crate::labelled_enum! {
    /// Key populations (重点人群) cared for by grid workers.
    pub enum KeyTag {
        ElderlyAlone = ("elderly_alone", "独居老人"),
        Over80 = ("over_80", "高龄老人"),
        Disabled = ("disabled", "残疾人"),
        LowIncome = ("low_income", "低保对象"),
        LeftBehindChild = ("left_behind_child", "留守儿童"),
        SevereMentalDisorder = ("severe_mental_disorder", "严重精神障碍患者"),
        CommunityCorrection = ("community_correction", "社区矫正对象"),
        Veteran = ("veteran", "退役军人"),
        Pregnant = ("pregnant", "孕产妇"),
    }
}

crate::labelled_enum! {
    /// How a place people live in is organised.
    pub enum CompoundKind {
        Compound = ("compound", "小区"),
        Courtyard = ("courtyard", "院落"),
        VillageGroup = ("village_group", "村民小组"),
        Institution = ("institution", "单位"),
    }
}

crate::labelled_enum! {
    /// Roles of the people who keep the register and cover grids.
    pub enum StaffRole {
        GridChief = ("grid_chief", "网格长"),
        FullTimeGridWorker = ("full_time", "专职网格员"),
        PartTimeGridWorker = ("part_time", "兼职网格员"),
        MicroGridWorker = ("micro_grid", "微网格员"),
        CommunityStaff = ("community_staff", "社区工作者"),
    }
}

crate::labelled_enum! {
    /// What happened in the register. Each is an event with the state before and after.
    pub enum RegisterEventKind {
        HouseholdRegistered = ("household_registered", "登记户"),
        HouseholdMoved = ("household_moved", "户迁移"),
        HouseholdDissolved = ("household_dissolved", "户注销"),
        ResidentAdded = ("resident_added", "人员登记"),
        Birth = ("birth", "出生登记"),
        Death = ("death", "死亡注销"),
        MovedOut = ("moved_out", "迁出"),
        ResidentUpdated = ("resident_updated", "信息变更"),
        TagSet = ("tag_set", "标记重点人群"),
        TagCleared = ("tag_cleared", "解除重点人群"),
    }
}
