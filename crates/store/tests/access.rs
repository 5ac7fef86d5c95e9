//! Users, sessions, tokens and the audit chain, on SQLite and on PostgreSQL.

use shezhi_domain::access::{Binding, Role, password, secret_hash};
use shezhi_domain::audit::BrokenLink;
use shezhi_domain::territory::RegionCode;
use shezhi_store::access::{AuditCheck, AuditNote, NewUser};
use shezhi_store::{Store, on_both_backends};

const NOW: i64 = 1_795_000_000_000;

fn note(action: &str) -> AuditNote {
    AuditNote {
        at_ms: NOW,
        actor: "user:1".into(),
        action: action.into(),
        target: String::new(),
        region_code: None,
        ip: Some("10.0.0.8".into()),
        detail: serde_json::Value::Null,
    }
}

fn new_user(name: &str, pw_hash: &str) -> NewUser {
    NewUser {
        username: name.into(),
        display_name: format!("{name} 显示名"),
        password_hash: pw_hash.into(),
        resident_id: None,
        bindings: vec![
            Binding {
                role: Role::GridWorker,
                scope: RegionCode::parse("510104018001001").ok(),
                unit: None,
            },
            Binding {
                role: Role::StreetStaff,
                scope: RegionCode::parse("510104018000").ok(),
                unit: None,
            },
        ],
    }
}

async fn users_bindings_sessions_and_tokens(store: Store) {
    let hash = password::hash("网格员密码-2026", &[3; 16]).unwrap_or_else(|e| panic!("{e}"));
    let id = store
        .create_user(&new_user("wang", &hash), &note("user_created"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let again = store
        .create_user(&new_user("wang", &hash), &note("user_created"))
        .await;
    assert!(again.is_err_and(|e| shezhi_domain::Bilingual::code(&e) == "username_taken"));
    let u = store
        .user_by_username("wang")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("missing"));
    assert_eq!(u.id, id);
    assert!(password::verify("网格员密码-2026", &u.password_hash));
    let b = store
        .user_bindings(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b, new_user("wang", &hash).bindings);
    // The password is stored only as its Argon2id hash.
    let dump = format!(
        "{:?}",
        store.user_by_username("wang").await.unwrap_or_default()
    );
    assert!(!dump.contains("网格员密码-2026"));

    // Sessions by token hash, until they expire.
    let token = secret_hash("a-random-session-token");
    store
        .create_session(&token, id, "csrf-1", NOW, NOW + 1000, Some("10.0.0.8"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let s = store
        .session(&token, NOW + 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no session"));
    assert_eq!((s.user_id, s.csrf_token.as_str()), (id, "csrf-1"));
    assert!(
        store
            .session(&token, NOW + 1000)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none(),
        "expired"
    );
    store
        .delete_session(&token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        store
            .session(&token, NOW)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );

    // API tokens.
    let t = secret_hash("an-api-token");
    store
        .create_api_token(
            id,
            "12345 热线对接",
            &t,
            &note("api_token_created"),
            Some(NOW + 5000),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store
            .api_token_user(&t, NOW)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        Some(id)
    );
    assert_eq!(
        store
            .api_token_user(&t, NOW + 5000)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        None
    );
    assert_eq!(
        store
            .api_token_user(&secret_hash("guess"), NOW)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        None
    );

    // Revoking a token ends it at once, and only once.
    let token_id = store
        .api_tokens_of(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))[0]
        .id;
    assert!(
        store
            .revoke_api_token(token_id, &note("revoke"))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    );
    assert!(
        !store
            .revoke_api_token(token_id, &note("revoke"))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    );
    assert_eq!(store.api_token_user(&t, NOW).await.ok().flatten(), None);

    // Ending a user's sessions ends every one of them; disabling a user ends them too and
    // stops every token.
    for (i, at) in [(1_u8, NOW), (2, NOW + 1)] {
        store
            .create_session(&[i; 32], id, "csrf", at, NOW + 60_000, None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(
        store
            .end_sessions(id, &note("end"))
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        2
    );
    assert!(store.session(&[1; 32], NOW).await.ok().flatten().is_none());
    let t2 = secret_hash("another-api-token");
    store
        .create_api_token(id, "second", &t2, &note("api_token_created"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .create_session(&[3; 32], id, "csrf", NOW, NOW + 60_000, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .set_user_active(id, false, &note("disable"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(store.session(&[3; 32], NOW).await.ok().flatten().is_none());
    assert_eq!(store.api_token_user(&t2, NOW).await.ok().flatten(), None);
    store
        .set_user_active(id, true, &note("enable"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.api_token_user(&t2, NOW).await.ok().flatten(),
        Some(id)
    );
}

/// Sign-in attempts are counted before their passwords are checked: of many sent at the
/// same moment only the free ones are heard, whatever the interleaving, and a success
/// starts the count again.
async fn parallel_sign_in_attempts_are_counted_one_by_one(store: Store) {
    use shezhi_domain::access::throttle::{FREE_FAILURES, Turn};
    let id = store
        .create_user(&new_user("li", "!"), &note("user_created"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let turns = futures_join(&store, id, 12).await;
    let heard = turns
        .iter()
        .filter(|t| matches!(t, Turn::Go { .. }))
        .count();
    assert_eq!(heard, FREE_FAILURES as usize + 1, "{turns:?}");
    assert!(turns.iter().all(
        |t| matches!(t, Turn::Wait { until_ms } if *until_ms == NOW + 1_000)
            || matches!(t, Turn::Go { .. })
    ));
    // After the wait one more is heard, then the wait doubles.
    let t = store
        .take_sign_in_turn(id, NOW + 1_000)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(t, Turn::Go { after } if after.next_at_ms == NOW + 3_000));
    store
        .record_login_success(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let t = store
        .take_sign_in_turn(id, NOW + 1_001)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(t, Turn::Go { after } if after.failures == 1));
}

async fn futures_join(
    store: &Store,
    id: i64,
    n: usize,
) -> Vec<shezhi_domain::access::throttle::Turn> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let store = store.clone();
        tasks.spawn(async move { store.take_sign_in_turn(id, NOW).await });
    }
    let mut out = Vec::new();
    while let Some(r) = tasks.join_next().await {
        out.push(
            r.unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    out
}

async fn a_tampered_audit_row_is_found(store: Store) {
    for i in 0..6 {
        let mut n = note("viewed_personal_data");
        n.target = format!("resident:{i}");
        n.detail = serde_json::json!({"field": "id_number"});
        store.audit(&n).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let intact = store.verify_audit().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(intact, AuditCheck::Intact { entries: 6, .. }),
        "{intact:?}"
    );
    store
        .execute_admin("UPDATE audit_log SET actor = 'user:99' WHERE seq = 4")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.verify_audit().await.unwrap_or_else(|e| panic!("{e}")),
        AuditCheck::Broken(BrokenLink::Content { seq: 4 })
    );
    store
        .execute_admin("UPDATE audit_log SET actor = 'user:1' WHERE seq = 4")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        store.verify_audit().await.unwrap_or_else(|e| panic!("{e}")),
        AuditCheck::Intact { .. }
    ));
    // Dropping the newest entry is found too: the head remembers how many there were.
    store
        .execute_admin("DELETE FROM audit_log WHERE seq = 6")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.verify_audit().await.unwrap_or_else(|e| panic!("{e}")),
        AuditCheck::Broken(BrokenLink::Truncated { last: 5, head: 6 })
    );
}

async fn a_user_and_its_audit_entry_commit_together(store: Store) {
    let hash = password::hash("another-pass-9", &[4; 16]).unwrap_or_else(|e| panic!("{e}"));
    store
        .create_user(&new_user("li", &hash), &note("user_created"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // A refused creation leaves no audit entry behind.
    let _ = store
        .create_user(&new_user("li", &hash), &note("user_created"))
        .await;
    match store.verify_audit().await.unwrap_or_else(|e| panic!("{e}")) {
        AuditCheck::Intact { entries, .. } => assert_eq!(entries, 1),
        other => panic!("{other:?}"),
    }
}

on_both_backends!(
    users_bindings_sessions_and_tokens,
    parallel_sign_in_attempts_are_counted_one_by_one,
    a_tampered_audit_row_is_found,
    a_user_and_its_audit_entry_commit_together
);
