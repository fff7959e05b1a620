use std::sync::Arc;

use usher_server::store::*;
use usher_types::Strategy;

use super::{contract, user};

/// A decoy is listed among the user's emails as unverified, told apart only by
/// `is_decoy_email_address`, and removed like any address; the owner's address is untouched.
async fn decoys_are_listed_unverified_and_removable(store: Arc<dyn Store>) {
    store.create_user(&user("user_owner", "taken@example.com", 10)).await.unwrap();
    store.create_user(&user("user_adder", "adder@example.com", 10)).await.unwrap();
    let decoy = IdentifierRecord {
        id: "idn_decoy".into(),
        value: "taken@example.com".into(),
        verified: true,
        strategy: Strategy::EmailCode,
        created_at: 20,
        updated_at: 20,
    };
    let before = store.get_user("user_adder").await.unwrap().unwrap().version;
    store.add_decoy_email_address("user_adder", &decoy).await.unwrap();
    let adder = store.get_user("user_adder").await.unwrap().unwrap();
    assert!(adder.version > before, "an add is a change of the user");
    let listed = adder.emails.iter().find(|e| e.id == "idn_decoy").expect("listed");
    assert!(!listed.verified, "never verified, whatever the record said");
    assert!(store.is_decoy_email_address("user_adder", "idn_decoy").await.unwrap());
    assert!(!store.is_decoy_email_address("user_owner", "idn_decoy").await.unwrap(), "only its user's");
    assert!(!store.is_decoy_email_address("user_adder", "idn_e_user_adder").await.unwrap());
    assert!(!store.verify_email_address("user_adder", "idn_decoy", 30).await.unwrap());
    assert!(store.delete_email_address("user_adder", "idn_decoy").await.unwrap());
    assert!(!store.is_decoy_email_address("user_adder", "idn_decoy").await.unwrap());
    let owner = store.get_user("user_owner").await.unwrap().unwrap();
    assert_eq!(owner.emails.len(), 1);
    assert!(owner.emails[0].verified);
}

contract!(decoys_are_listed_unverified_and_removable);
