use std::sync::Arc;

use usher_server::store::*;

use super::contract;

fn key(kid: &str, activates_at: i64) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        private_der: vec![1, 2, 3],
        created_at: activates_at,
        activates_at,
        max_lifetime: 60,
        ..Default::default()
    }
}

async fn signing_keys_rotate_atomically(store: Arc<dyn Store>) {
    store.insert_first_signing_key(&key("ins_1", 10)).await.unwrap();
    store.insert_first_signing_key(&key("ins_other", 11)).await.unwrap();
    assert_eq!(store.signing_keys().await.unwrap().len(), 1, "only the first key is inserted");
    store.record_key_lifetime("ins_1", 3600).await.unwrap();
    store.record_key_lifetime("ins_1", 100).await.unwrap();
    store.rotate_signing_key(&key("ins_2", 1000), 5).await.unwrap();
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys[0].kid, "ins_2");
    assert_eq!(keys[0].retired_at, None);
    assert_eq!(
        (keys[1].retired_at, keys[1].publish_until, keys[1].max_lifetime),
        (Some(1000), Some(1000 + 3_600_000 + 5), 3600)
    );
    // A longer token signed by the retired key extends its publication.
    store.record_key_lifetime("ins_1", 7200).await.unwrap();
    assert_eq!(store.signing_keys().await.unwrap()[1].publish_until, Some(1000 + 7_200_000 + 5));
}

contract!(signing_keys_rotate_atomically);
