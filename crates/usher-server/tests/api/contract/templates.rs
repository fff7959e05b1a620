use std::sync::Arc;

use serde_json::json;
use usher_server::store::*;

use super::contract;

async fn templates_have_unique_names(store: Arc<dyn Store>) {
    let t = TemplateRecord {
        id: "jtmp_1".into(),
        name: "supabase".into(),
        claims: json!({"aud": "authenticated", "email": "{{user.primary_email_address}}"}),
        lifetime: 60,
        allowed_clock_skew: 5,
        custom_signing_key: true,
        signing_algorithm: "HS256".into(),
        signing_key: Some("s".repeat(32)),
        created_at: 1,
        updated_at: 1,
    };
    store.create_template(&t).await.unwrap();
    let dup = TemplateRecord { id: "jtmp_2".into(), ..t.clone() };
    assert!(matches!(store.create_template(&dup).await, Err(StoreError::Conflict(UniqueField::TemplateName))));
    assert_eq!(store.get_template_by_name("supabase").await.unwrap(), Some(t.clone()));
    let renamed = TemplateRecord { name: "other".into(), lifetime: 120, updated_at: 2, ..t.clone() };
    assert!(store.update_template(&renamed).await.unwrap());
    assert_eq!(store.get_template("jtmp_1").await.unwrap(), Some(renamed));
    let (list, total) = store.list_templates(Page { limit: 10, offset: 0 }).await.unwrap();
    assert_eq!((list.len(), total), (1, 1));
    assert!(store.delete_template("jtmp_1").await.unwrap());
    assert!(!store.delete_template("jtmp_1").await.unwrap());
}

contract!(templates_have_unique_names);
