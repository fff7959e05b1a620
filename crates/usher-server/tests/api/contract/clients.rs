use std::sync::Arc;

use usher_server::store::*;

use super::contract;

async fn clients_round_trip(store: Arc<dyn Store>) {
    let mut client = ClientRecord {
        id: "client_1".into(),
        token_hash: "t1".into(),
        expire_at: 100,
        created_at: 1,
        updated_at: 1,
        ..ClientRecord::default()
    };
    store.create_client(&client).await.unwrap();
    client.token_hash = "t2".into();
    client.sign_in_id = Some("sia_1".into());
    client.last_active_session_id = Some("sess_1".into());
    assert!(store.save_client(&client).await.unwrap());
    assert_eq!(store.get_client("client_1").await.unwrap(), Some(client));
    assert!(!store.save_client(&ClientRecord { id: "client_x".into(), ..ClientRecord::default() }).await.unwrap());
}

contract!(clients_round_trip);
