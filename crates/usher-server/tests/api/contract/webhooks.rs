use std::sync::Arc;

use usher_server::store::*;

use super::contract;

fn endpoint(id: &str, types: &[&str], created_at: i64) -> EndpointRecord {
    EndpointRecord {
        id: id.into(),
        url: format!("http://127.0.0.1:1/{id}"),
        description: "d".into(),
        event_types: types.iter().map(|t| (*t).to_owned()).collect(),
        enabled: true,
        secret: "whsec_x".into(),
        created_at,
        updated_at: created_at,
        ..EndpointRecord::default()
    }
}

fn event(id: &str, event_type: &str, at: i64) -> NewEvent {
    NewEvent {
        id: id.into(),
        event_type: event_type.into(),
        payload: format!("{{\"id\":\"{id}\"}}").into_bytes(),
        created_at: at,
    }
}

async fn endpoints_round_trip(store: Arc<dyn Store>) {
    let mut e = endpoint("ep_1", &["user.created"], 10);
    store.create_endpoint(&e).await.unwrap();
    store.create_endpoint(&endpoint("ep_2", &[], 11)).await.unwrap();
    assert_eq!(store.get_endpoint("ep_1").await.unwrap().as_ref(), Some(&e));
    e.enabled = false;
    e.previous_secret = Some("whsec_old".into());
    e.previous_secret_until = Some(99);
    assert!(store.update_endpoint(&e).await.unwrap());
    let (list, total) = store.list_endpoints(Page { limit: 10, offset: 0 }).await.unwrap();
    assert_eq!((list[0].clone(), total), (e, 2));
    assert!(store.delete_endpoint("ep_2").await.unwrap());
    assert!(!store.delete_endpoint("ep_2").await.unwrap());
    assert_eq!(store.get_endpoint("ep_2").await.unwrap(), None);
}

async fn messages_route_once_in_order_and_claim_once(store: Arc<dyn Store>) {
    store.create_endpoint(&endpoint("ep_users", &["user.created"], 1)).await.unwrap();
    store.create_endpoint(&endpoint("ep_all", &[], 1)).await.unwrap();
    let mut off = endpoint("ep_off", &[], 1);
    off.enabled = false;
    store.create_endpoint(&off).await.unwrap();
    // Same millisecond: the order they were written in decides.
    store.enqueue_events(&[event("msg_b", "user.created", 5), event("msg_a", "session.created", 5)]).await.unwrap();
    let payload = store.get_message("msg_b").await.unwrap().unwrap().payload;
    assert_eq!(payload, b"{\"id\":\"msg_b\"}");
    assert_eq!(store.route_messages(6, 10).await.unwrap(), 2);
    assert_eq!(store.route_messages(6, 10).await.unwrap(), 0, "routed once");
    let due = store.due_deliveries(6, 10).await.unwrap();
    let pairs: Vec<_> = due.iter().map(|d| (d.endpoint_id.as_str(), d.message_id.as_str())).collect();
    assert_eq!(pairs.len(), 3);
    assert_eq!(pairs.iter().filter(|p| p.0 == "ep_all").map(|p| p.1).collect::<Vec<_>>(), ["msg_b", "msg_a"]);
    assert!(pairs.contains(&("ep_users", "msg_b")));
    assert!(store.claim_delivery(&due[0], 100).await.unwrap());
    assert!(!store.claim_delivery(&due[0], 100).await.unwrap(), "a second node does not get it");
    assert_eq!(store.due_deliveries(6, 10).await.unwrap().len(), 2);

    let d = &due[0];
    let outcome = |succeeded, status, next, id: &str, at| AttemptOutcome {
        attempt: WebhookAttemptRecord {
            id: id.into(),
            endpoint_id: d.endpoint_id.clone(),
            message_id: d.message_id.clone(),
            succeeded,
            status_code: Some(if succeeded { 204 } else { 500 }),
            latency_ms: 3,
            error: (!succeeded).then(|| "HTTP 500".to_owned()),
            created_at: at,
        },
        status,
        next_attempt_at: next,
    };
    store.record_webhook_attempt(&outcome(false, DeliveryStatus::Pending, 50, "whatt_1", 7)).await.unwrap();
    assert_eq!(store.get_endpoint(&d.endpoint_id).await.unwrap().unwrap().failing_since, Some(7));
    assert!(
        !store
            .due_deliveries(49, 10)
            .await
            .unwrap()
            .iter()
            .any(|x| x.message_id == d.message_id && x.endpoint_id == d.endpoint_id)
    );
    let again = store.due_deliveries(50, 10).await.unwrap();
    let retry = again.iter().find(|x| x.message_id == d.message_id && x.endpoint_id == d.endpoint_id).unwrap();
    assert_eq!(retry.attempts, 1);
    store.record_webhook_attempt(&outcome(true, DeliveryStatus::Succeeded, 50, "whatt_2", 51)).await.unwrap();
    assert_eq!(store.get_endpoint(&d.endpoint_id).await.unwrap().unwrap().failing_since, None);
    let (attempts, n) = store.list_webhook_attempts(&d.endpoint_id, Page { limit: 10, offset: 0 }).await.unwrap();
    assert_eq!((n, attempts[0].id.as_str(), attempts[1].error.as_deref()), (2, "whatt_2", Some("HTTP 500")));
    let (deliveries, _) = store.list_deliveries(&d.endpoint_id, Page { limit: 10, offset: 0 }).await.unwrap();
    assert!(deliveries.iter().any(|x| x.status == DeliveryStatus::Succeeded));

    // Replay: the delivered message goes out again; to the disabled endpoint only when asked.
    assert_eq!(
        store.replay_message(&d.message_id, None, 60).await.unwrap(),
        2.min(pairs.iter().filter(|p| p.1 == d.message_id).count() as u64)
    );
    assert_eq!(store.replay_message(&d.message_id, Some("ep_off"), 60).await.unwrap(), 1);
    assert_eq!(store.replay_message("msg_none", None, 60).await.unwrap(), 0);
    let stats = store.webhook_stats().await.unwrap();
    assert_eq!((stats.unrouted_messages, stats.failed_attempts), (0, 1));
    assert!(stats.pending_deliveries >= 3);
}

async fn failing_endpoints_are_disabled(store: Arc<dyn Store>) {
    let mut e = endpoint("ep_1", &[], 1);
    e.failing_since = Some(10);
    store.create_endpoint(&e).await.unwrap();
    store.create_endpoint(&endpoint("ep_2", &[], 1)).await.unwrap();
    store.enqueue_events(&[event("msg_1", "user.created", 5)]).await.unwrap();
    store.route_messages(6, 10).await.unwrap();
    assert_eq!(store.disable_failing_endpoints(10, 20).await.unwrap(), Vec::<String>::new());
    assert_eq!(store.disable_failing_endpoints(11, 20).await.unwrap(), ["ep_1"]);
    assert!(!store.get_endpoint("ep_1").await.unwrap().unwrap().enabled);
    let due = store.due_deliveries(30, 10).await.unwrap();
    assert_eq!(due.iter().map(|d| d.endpoint_id.as_str()).collect::<Vec<_>>(), ["ep_2"]);
    assert_eq!(store.webhook_stats().await.unwrap().failed_deliveries, 1);
}

contract!(endpoints_round_trip, messages_route_once_in_order_and_claim_once, failing_endpoints_are_disabled);
