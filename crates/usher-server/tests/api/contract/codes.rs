use std::sync::Arc;

use usher_server::store::*;

use super::{contract, outbox::mail};

async fn codes_are_single_use(store: Arc<dyn Store>) {
    let code =
        CodeRecord { subject_id: "sia_1".into(), code_hash: "c1".into(), attempts: 0, expire_at: 99, created_at: 10 };
    store.issue_code(&code, Some(&mail("mail_1"))).await.unwrap();
    // A new code replaces the old one and starts its guess count afresh.
    assert_eq!(store.take_guess("sia_1", 5).await.unwrap().map(|c| c.attempts), Some(1));
    store.issue_code(&CodeRecord { code_hash: "c2".into(), ..code.clone() }, Some(&mail("mail_2"))).await.unwrap();
    let live = store.get_code("sia_1").await.unwrap().unwrap();
    assert_eq!((live.code_hash.as_str(), live.attempts), ("c2", 0));
    assert!(!store.consume_code("sia_1", "c1").await.unwrap());
    assert!(store.consume_code("sia_1", "c2").await.unwrap());
    assert!(!store.consume_code("sia_1", "c2").await.unwrap(), "once");
    assert_eq!(store.get_code("sia_1").await.unwrap(), None);
}

/// A decoy code (no mail) is kept like any other; guesses are capped by one conditional write,
/// however many race.
async fn guesses_are_capped_atomically(store: Arc<dyn Store>) {
    let code =
        CodeRecord { subject_id: "sia_2".into(), code_hash: "c".into(), attempts: 0, expire_at: 99, created_at: 10 };
    store.issue_code(&code, None).await.unwrap();
    let guesses: Vec<_> = (0..40)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.take_guess("sia_2", 5).await.unwrap() })
        })
        .collect();
    let mut counts = Vec::new();
    for guess in guesses {
        counts.extend(guess.await.unwrap().map(|c| c.attempts));
    }
    counts.sort();
    assert_eq!(counts, vec![1, 2, 3, 4, 5]);
    assert_eq!(store.take_guess("sia_2", 5).await.unwrap(), None);
    assert_eq!(store.take_guess("sia_none", 5).await.unwrap(), None);
    assert_eq!(store.get_code("sia_2").await.unwrap().map(|c| c.attempts), Some(5));
}

/// Deleting a subject's code leaves nothing to guess or consume, and leaves other subjects alone.
async fn codes_can_be_revoked(store: Arc<dyn Store>) {
    let code =
        CodeRecord { subject_id: "reset_1".into(), code_hash: "c".into(), attempts: 0, expire_at: 99, created_at: 10 };
    store.issue_code(&code, None).await.unwrap();
    store.issue_code(&CodeRecord { subject_id: "reset_2".into(), ..code.clone() }, None).await.unwrap();
    store.delete_code("reset_1").await.unwrap();
    store.delete_code("reset_none").await.unwrap();
    assert_eq!(store.take_guess("reset_1", 5).await.unwrap(), None);
    assert!(!store.consume_code("reset_1", "c").await.unwrap());
    assert!(store.get_code("reset_2").await.unwrap().is_some());
}

contract!(codes_are_single_use, guesses_are_capped_atomically, codes_can_be_revoked);
