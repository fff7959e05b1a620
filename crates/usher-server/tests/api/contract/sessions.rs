use std::sync::Arc;

use usher_server::store::*;

use super::{contract, session, user};

async fn sessions_list_and_end(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    for i in 0..3 {
        store.create_session(&session(&format!("sess_{i}"), "user_a", 10 + i)).await.unwrap();
    }
    let ended = store.end_session("sess_0", SessionStatus::Revoked, 50).await.unwrap().unwrap();
    assert_eq!((ended.status, ended.updated_at), (SessionStatus::Revoked, 50));
    // Ending again changes nothing.
    assert_eq!(
        store.end_session("sess_0", SessionStatus::Ended, 60).await.unwrap().unwrap().status,
        SessionStatus::Revoked
    );
    assert_eq!(store.end_session("sess_x", SessionStatus::Ended, 60).await.unwrap(), None);
    let filter =
        SessionFilter { user_id: Some("user_a".into()), status: Some(SessionStatus::Active), ..Default::default() };
    let (active, total) = store.list_sessions(&filter, Page { limit: 1, offset: 0 }).await.unwrap();
    assert_eq!((active[0].id.as_str(), total), ("sess_2", 2));
    assert_eq!(store.end_user_sessions("user_a", SessionStatus::Revoked, 70).await.unwrap(), 2);
    let (_, active) = store.list_sessions(&filter, Page { limit: 10, offset: 0 }).await.unwrap();
    assert_eq!(active, 0);
}

async fn a_clients_live_sessions_are_listed_and_ended_together(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    for i in 0..3 {
        store.create_session(&session(&format!("sess_{i}"), "user_a", 10 + i)).await.unwrap();
    }
    let elsewhere = SessionRecord { id: "sess_other".into(), client_id: "client_2".into(), ..session("", "user_a", 5) };
    store.create_session(&elsewhere).await.unwrap();
    store.end_session("sess_1", SessionStatus::Ended, 20).await.unwrap();
    let live: Vec<String> = store.client_sessions("client_1").await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(live, ["sess_2", "sess_0"], "live ones only, newest first");
    assert_eq!(store.end_client_sessions("client_1", SessionStatus::Removed, 30).await.unwrap(), 2);
    assert!(store.client_sessions("client_1").await.unwrap().is_empty());
    assert_eq!(store.get_session("sess_0").await.unwrap().unwrap().status, SessionStatus::Removed);
    assert_eq!(store.get_session("sess_1").await.unwrap().unwrap().status, SessionStatus::Ended, "ended ones stay");
    assert_eq!(store.client_sessions("client_2").await.unwrap().len(), 1, "other clients are untouched");
    let touched = store.touch_session("sess_other", 40, 400).await.unwrap().unwrap();
    assert_eq!((touched.last_active_at, touched.abandon_at), (40, 400));
}

contract!(sessions_list_and_end, a_clients_live_sessions_are_listed_and_ended_together);
