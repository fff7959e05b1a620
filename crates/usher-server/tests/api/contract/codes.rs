use std::sync::Arc;

use usher_server::store::*;

use super::{contract, outbox::mail};

async fn codes_are_single_use(store: Arc<dyn Store>) {
    let code =
        CodeRecord { subject_id: "sia_1".into(), code_hash: "c1".into(), attempts: 0, expire_at: 99, created_at: 10 };
    store.issue_code(&code, &mail("mail_1")).await.unwrap();
    // A new code replaces the old one and starts its guess count afresh.
    assert_eq!(store.code_failed("sia_1").await.unwrap(), 1);
    store.issue_code(&CodeRecord { code_hash: "c2".into(), ..code.clone() }, &mail("mail_2")).await.unwrap();
    let live = store.get_code("sia_1").await.unwrap().unwrap();
    assert_eq!((live.code_hash.as_str(), live.attempts), ("c2", 0));
    assert!(!store.consume_code("sia_1", "c1").await.unwrap());
    assert!(store.consume_code("sia_1", "c2").await.unwrap());
    assert!(!store.consume_code("sia_1", "c2").await.unwrap(), "once");
    assert_eq!(store.get_code("sia_1").await.unwrap(), None);
}

contract!(codes_are_single_use);
