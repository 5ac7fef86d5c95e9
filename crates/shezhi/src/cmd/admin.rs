//! `shezhi admin create-user` and `create-token`, `shezhi audit verify`, and the demo's
//! accounts: one per role, with a documented password, created on the demo's first start.

use super::register::now_ms;
use super::{CliError, open_store};
use crate::config::{AdminArgs, AdminWhat, AuditArgs, AuditWhat, Config};
use shezhi_domain::access::{Binding, Role, password, secret_hash};
use shezhi_domain::people::Date;
use shezhi_domain::territory::RegionCode;
use shezhi_store::Store;
use shezhi_store::access::{AuditCheck, AuditNote, HandlingUnit, NewUser};

/// The demo accounts' password (printed at start; change it on any real deployment).
pub const DEMO_PASSWORD: &str = "shezhi-demo-2026";

fn salt() -> Result<[u8; 16], CliError> {
    use rand::TryRngCore;
    let mut s = [0u8; 16];
    rand::rngs::OsRng
        .try_fill_bytes(&mut s)
        .map_err(|e| CliError::Config(format!("no operating system randomness: {e}")))?;
    Ok(s)
}

fn hash(pw: &str) -> Result<String, CliError> {
    password::check_policy(pw).map_err(|e| CliError::Config(e.to_string()))?;
    password::hash(pw, &salt()?).map_err(|e| CliError::Config(e.to_string()))
}

/// `role` or `role=scope` or `unit_staff=UNITCODE`.
pub fn parse_binding(s: &str) -> Result<Binding, CliError> {
    let (role, target) = match s.split_once('=') {
        Some((r, t)) => (r, Some(t)),
        None => (s, None),
    };
    let role = Role::parse(role).ok_or_else(|| {
        let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        CliError::Config(format!("unknown role {role:?}; one of {}", all.join(", ")))
    })?;
    let (scope, unit) = match (role, target) {
        (Role::UnitStaff, Some(u)) => (None, Some(u.to_string())),
        (_, Some(t)) => (
            Some(RegionCode::parse(t).map_err(|e| CliError::Config(e.to_string()))?),
            None,
        ),
        (r, None) if r.needs_scope() => {
            return Err(CliError::Config(format!(
                "role {} needs a scope: {}=REGION_CODE",
                r.as_str(),
                r.as_str()
            )));
        }
        _ => (None, None),
    };
    Ok(Binding { role, scope, unit })
}

fn note(actor: &str, action: &str) -> AuditNote {
    AuditNote {
        at_ms: now_ms(),
        actor: actor.into(),
        action: action.into(),
        target: String::new(),
        region_code: None,
        ip: None,
        detail: serde_json::Value::Null,
    }
}

pub async fn admin(cfg: &Config, args: AdminArgs) -> Result<(), CliError> {
    match args.what {
        AdminWhat::CreateUser {
            username,
            display_name,
            bind,
        } => {
            let pw = std::env::var("SHEZHI_NEW_PASSWORD").map_err(|_| {
                CliError::Config(
                    "give the new user's password in the environment variable SHEZHI_NEW_PASSWORD"
                        .into(),
                )
            })?;
            let bindings = bind
                .iter()
                .map(|b| parse_binding(b))
                .collect::<Result<Vec<_>, _>>()?;
            let store = open_store(cfg, cfg.database_url()).await?;
            super::bind_keys(&store, cfg.data_key.as_ref(), "cli").await?;
            let user = NewUser {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                password_hash: hash(&pw)?,
                resident_id: None,
                bindings,
            };
            let id = store.create_user(&user, &note("cli", "user_created")).await;
            store.close().await;
            println!("created user {} (id {})", user.username, id?);
            Ok(())
        }
        AdminWhat::CreateToken {
            username,
            name,
            days,
            no_expiry,
        } => {
            let days = if no_expiry {
                None
            } else {
                Some(days.unwrap_or(DEFAULT_TOKEN_DAYS))
            };
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                return Err(CliError::Config(
                    "--name must say what the token is for, in at most 100 characters".into(),
                ));
            }
            let store = open_store(cfg, cfg.database_url()).await?;
            super::bind_keys(&store, cfg.data_key.as_ref(), "cli").await?;
            let made = create_token(&store, &username, name, days).await;
            store.close().await;
            let (id, token) = made?;
            let until = days.map_or("never expires".to_string(), |d| {
                format!("expires in {d} days")
            });
            eprintln!(
                "API token {id} for {username} ({name}), {until}; it is shown only now, keep it secret"
            );
            println!("{token}");
            Ok(())
        }
        other => revocation(cfg, other).await,
    }
}

/// Days an API token lives unless said otherwise.
pub const DEFAULT_TOKEN_DAYS: u32 = 90;

/// Revocation: list, revoke, disable, enable, end sessions; every change audited as `cli`.
async fn revocation(cfg: &Config, what: AdminWhat) -> Result<(), CliError> {
    let store = open_store(cfg, cfg.database_url()).await?;
    super::bind_keys(&store, cfg.data_key.as_ref(), "cli").await?;
    let done = revoke_with(&store, what).await;
    store.close().await;
    done
}

async fn user_id(store: &Store, username: &str) -> Result<i64, CliError> {
    store
        .user_by_username(username)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| CliError::Config(format!("no user named {username:?}")))
}

async fn revoke_with(store: &Store, what: AdminWhat) -> Result<(), CliError> {
    let at = |action: &str, target: String| {
        let mut n = note("cli", action);
        n.target = target;
        n
    };
    match what {
        AdminWhat::ListTokens { username } => {
            let id = user_id(store, &username).await?;
            for t in store.api_tokens_of(id).await? {
                let state = match (t.revoked_at_ms, t.expires_at_ms) {
                    (Some(_), _) => "revoked".to_string(),
                    (None, Some(e)) if e <= now_ms() => "expired".to_string(),
                    (None, Some(e)) => format!("expires {}", Date::from_epoch_ms_cst(e)),
                    (None, None) => "never expires".to_string(),
                };
                println!("{}\t{}\t{}", t.id, t.name, state);
            }
        }
        AdminWhat::RevokeToken { id } => {
            let changed = store
                .revoke_api_token(id, &at("api_token.revoked", format!("api_token:{id}")))
                .await?;
            println!(
                "API token {id} {}",
                if changed {
                    "revoked"
                } else {
                    "was already revoked"
                }
            );
        }
        AdminWhat::DisableUser { username } => {
            let id = user_id(store, &username).await?;
            store
                .set_user_active(id, false, &at("user.disabled", format!("user:{id}")))
                .await?;
            println!("user {username} disabled; their sessions ended");
        }
        AdminWhat::EnableUser { username } => {
            let id = user_id(store, &username).await?;
            store
                .set_user_active(id, true, &at("user.enabled", format!("user:{id}")))
                .await?;
            println!("user {username} enabled");
        }
        AdminWhat::EndSessions { username } => {
            let id = user_id(store, &username).await?;
            let n = store
                .end_sessions(id, &at("sessions.ended", format!("user:{id}")))
                .await?;
            println!("ended {n} sessions of {username}");
        }
        AdminWhat::CreateUser { .. } | AdminWhat::CreateToken { .. } => {}
    }
    Ok(())
}

/// A new random token for an active user, stored only as its hash (audited); gives its id and
/// the token itself.
async fn create_token(
    store: &Store,
    username: &str,
    name: &str,
    days: Option<u32>,
) -> Result<(i64, String), CliError> {
    use rand::TryRngCore;
    let user = store
        .user_by_username(username)
        .await?
        .filter(|u| u.status == "active")
        .ok_or_else(|| CliError::Config(format!("no active user {username:?}")))?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| CliError::Config(format!("no operating system randomness: {e}")))?;
    let token = shezhi_domain::people::privacy::hex(&bytes);
    let audit = note("cli", "api_token_created");
    let expires = days.map(|d| audit.at_ms + i64::from(d) * 86_400_000);
    let id = store
        .create_api_token(user.id, name, &secret_hash(&token), &audit, expires)
        .await?;
    Ok((id, token))
}

pub async fn audit(cfg: &Config, args: AuditArgs) -> Result<(), CliError> {
    match args.what {
        AuditWhat::Verify => {
            let url = cfg.database_url();
            let path = cfg.audit_checkpoints(url);
            let checkpoints = super::checkpoints::read(&path)?;
            let store = open_store(cfg, url).await?;
            let check = verify(&store, cfg, checkpoints.clone().unwrap_or_default()).await;
            store.close().await;
            match check? {
                AuditCheck::Intact {
                    entries,
                    last_hash,
                    keyed_from,
                    keyed_links_checked,
                    checkpoints: n,
                    signatures_checked,
                } => {
                    println!(
                        "审计链完整 audit chain intact: {entries} entries, last hash {last_hash}"
                    );
                    match (keyed_from, keyed_links_checked) {
                        (Some(k), true) => println!(
                            "  自第 {k} 条起以密钥签名，已用数据密钥核验 keyed from entry {k}: keyed links recomputed with the data key"
                        ),
                        (Some(k), false) => println!(
                            "  未提供数据密钥：仅核验了链的结构 no data key: keyed from entry {k}, only the unkeyed structure was verified (order and linkage; not the keyed links, not checkpoint signatures)"
                        ),
                        (None, _) => println!(
                            "  审计链未以密钥签名 the chain is not keyed: a plain hash chain, which anyone who can write the database can recompute"
                        ),
                    }
                    match checkpoints {
                        Some(_) => println!(
                            "  {n} checkpoints checked ({signatures_checked} signatures) in {}",
                            path.display()
                        ),
                        None => println!(
                            "  0 checkpoints checked: no checkpoint file at {} (entries cut from the end cannot be detected without it)",
                            path.display()
                        ),
                    }
                    Ok(())
                }
                AuditCheck::Broken(b) => Err(CliError::AuditBroken(b)),
            }
        }
        AuditWhat::Checkpoint => {
            let url = cfg.database_url();
            let store = open_store(cfg, url).await?;
            let written = checkpoint(&store, cfg, url).await;
            store.close().await;
            println!("{}", written?.line());
            Ok(())
        }
    }
}

async fn checkpoint(
    store: &Store,
    cfg: &Config,
    url: &str,
) -> Result<shezhi_domain::audit::Checkpoint, CliError> {
    key_matches(store, cfg).await?;
    let to = super::checkpoints::Checkpoints {
        path: cfg.audit_checkpoints(url),
        key: cfg.data_key.as_ref().map(|k| k.audit_key()),
    };
    to.write(store, "command").await
}

/// Refuse a data key that is not this database's: every keyed link would look altered and
/// every checkpoint signed with it would be worthless.
async fn key_matches(store: &Store, cfg: &Config) -> Result<(), CliError> {
    if let Some(k) = &cfg.data_key {
        let fp = k.fingerprint();
        if let Some(stored) = store.data_key_fingerprint().await?
            && stored != fp
        {
            return Err(CliError::Config(format!(
                "the data key does not match this database (stored fingerprint {stored}, configured key {fp})"
            )));
        }
    }
    Ok(())
}

/// Check the chain, with the audit key derived from the configured data key.
async fn verify(
    store: &Store,
    cfg: &Config,
    checkpoints: Vec<(usize, shezhi_domain::audit::Checkpoint)>,
) -> Result<AuditCheck, CliError> {
    key_matches(store, cfg).await?;
    let key = cfg.data_key.as_ref().map(|k| k.audit_key());
    Ok(store.verify_audit_with(key, checkpoints).await?)
}

/// The demo's accounts, one per role, in 锦江区 (created once).
pub async fn seed_demo_accounts(
    store: &Store,
) -> Result<Vec<(String, &'static str, String)>, CliError> {
    let community = "510104018001";
    let grid = "510104018001001";
    let units = [HandlingUnit {
        code: "510104-CG".into(),
        name: "锦江区城市管理局".into(),
        kind: "department".into(),
        region_code: "510104000000".into(),
    }];
    let accounts: Vec<(&str, &str, String)> = vec![
        ("admin", "系统管理员", "admin".into()),
        ("wangge", "网格员 王格", format!("grid_worker={grid}")),
        (
            "shequ",
            "社区工作者 舒秋",
            format!("community_staff={community}"),
        ),
        (
            "jiedao",
            "街道工作人员 杰道",
            "street_staff=510104018000".into(),
        ),
        ("zhihui", "锦江区指挥中心", "command=510104000000".into()),
        ("chengguan", "城管局 程关", "unit_staff=510104-CG".into()),
        ("tiaojie", "调解员 陶洁", "mediator".into()),
        ("jumin", "居民 朱敏", "resident".into()),
    ];
    let mut out = Vec::new();
    if store.user_by_username("admin").await?.is_some() {
        for (u, _, b) in &accounts {
            out.push((u.to_string(), DEMO_PASSWORD, b.clone()));
        }
        return Ok(out);
    }
    store.put_units(&units).await?;
    let pw = hash(DEMO_PASSWORD)?;
    for (username, name, bind) in &accounts {
        let user = NewUser {
            username: (*username).into(),
            display_name: (*name).into(),
            password_hash: pw.clone(),
            resident_id: None,
            bindings: vec![parse_binding(bind)?],
        };
        store
            .create_user(&user, &note("system:demo", "user_created"))
            .await?;
        out.push((username.to_string(), DEMO_PASSWORD, bind.clone()));
    }
    Ok(out)
}
