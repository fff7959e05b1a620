use std::sync::Arc;

use usher_server::store::*;

use super::contract;

async fn settings_are_set_once(store: Arc<dyn Store>) {
    assert_eq!(store.setting("k").await.unwrap(), None);
    assert_eq!(store.init_setting("k", "first").await.unwrap(), "first");
    assert_eq!(store.init_setting("k", "second").await.unwrap(), "first");
}

contract!(settings_are_set_once);
