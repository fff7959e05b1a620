//! JWT templates.

use async_trait::async_trait;
use serde_json::Value;

use super::{Page, StoreResult};

/// A JWT template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateRecord {
    /// `jtmp_…`.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Claims with shortcodes.
    pub claims: Value,
    /// Token lifetime, seconds.
    pub lifetime: i64,
    /// `nbf` back-dating, seconds.
    pub allowed_clock_skew: i64,
    /// Whether `signing_key` signs instead of the instance key.
    pub custom_signing_key: bool,
    /// `RS256` … `HS512`.
    pub signing_algorithm: String,
    /// The template's own secret or private key (PEM), when `custom_signing_key`.
    pub signing_key: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// JWT templates.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// Inserts a template.
    async fn create_template(&self, template: &TemplateRecord) -> StoreResult<()>;
    /// A template by id.
    async fn get_template(&self, id: &str) -> StoreResult<Option<TemplateRecord>>;
    /// A template by its unique name.
    async fn get_template_by_name(&self, name: &str) -> StoreResult<Option<TemplateRecord>>;
    /// A page of templates by creation time, and how many there are.
    async fn list_templates(&self, page: Page) -> StoreResult<(Vec<TemplateRecord>, i64)>;
    /// Replaces a template; false if there is no such template.
    async fn update_template(&self, template: &TemplateRecord) -> StoreResult<bool>;
    /// Deletes a template; false if there was none.
    async fn delete_template(&self, id: &str) -> StoreResult<bool>;
}
