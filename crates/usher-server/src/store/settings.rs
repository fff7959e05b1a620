//! Instance settings: values the nodes of one instance must agree on.

use async_trait::async_trait;

use super::StoreResult;

/// Instance settings.
#[async_trait]
pub trait SettingStore: Send + Sync {
    /// Reads an instance setting.
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` under `key` unless the key exists; returns the value now stored. Nodes
    /// starting at once agree on one value this way.
    async fn init_setting(&self, key: &str, value: &str) -> StoreResult<String>;
    /// Stores `value` under `key`, replacing what was there.
    async fn put_setting(&self, key: &str, value: &str) -> StoreResult<()>;
}
