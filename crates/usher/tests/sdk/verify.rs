//! Verification: valid tokens pass, and every forged or invalid token (algorithm confusion, foreign
//! keys and categories, missing claims, times, parties) is "signed out".

use std::{
    net::TcpListener,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use aws_lc_rs::{hmac, rsa::KeySize, signature};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use usher::{VerifyError, verify::now_secs_for_tests};

use crate::server::{b64, rs256, sign, start};

fn claims(user: &str, sid: &str, now: i64, iss: &str) -> Value {
    json!({"sub": user, "sid": sid, "iat": now, "nbf": now - 5, "exp": now + 60, "iss": iss, "v": 2, "sts": "active"})
}

#[tokio::test]
async fn real_session_tokens_verify_from_the_remote_jwks_and_from_a_pem() {
    let server = start(|_| {}).await;
    let usher = server.usher(|_| {});
    let (user_id, session_id, token) = server.signed_in(&usher, "a@example.com").await;
    let claims = usher.verifier().verify(&token).await.expect("verifies");
    assert_eq!((claims.user_id.as_str(), claims.session_id.as_str()), (user_id.as_str(), session_id.as_str()));

    let pem = server.state.keys.signer().public_pem();
    let networkless = server.usher(|c| c.jwt_key = Some(pem));
    assert!(networkless.verifier().verify(&token).await.is_ok());
    assert_eq!(networkless.verifier().jwks_fetches(), 0);
}

#[tokio::test]
async fn forged_and_invalid_tokens_are_refused() {
    let server = start(|_| {}).await;
    let usher = server.usher(|c| c.authorized_parties = vec!["http://app.example".into()]);
    let (user, sid, _) = server.signed_in(&usher, "a@example.com").await;
    let (key, kid) = server.instance_key().await;
    let now = now_secs_for_tests();
    let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
    let good = rs256(&key, &header, &claims(&user, &sid, now, &server.url));
    assert!(usher.verifier().verify(&good).await.is_ok(), "the control token passes");

    let other = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).unwrap();
    let public_pem = server.state.keys.signer().public_pem();
    let hs_with_public_key = {
        let h = json!({"alg": "HS256", "kid": kid, "typ": "JWT"});
        let signed = format!("{}.{}", b64(&h), b64(&claims(&user, &sid, now, &server.url)));
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, public_pem.as_bytes()), signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag))
    };
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims(&user, &sid, now, &server.url);
        f(&mut c);
        rs256(&key, &header, &c)
    };
    let with_header = |h: Value| rs256(&key, &h, &claims(&user, &sid, now, &server.url));
    let (body, sig) = good.rsplit_once('.').unwrap();
    let mut short_sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    short_sig.pop();
    let mut tampered_payload = good.clone().into_bytes();
    let dot = good.find('.').unwrap();
    tampered_payload[dot + 3] ^= 1;

    let cases: Vec<(&str, String, VerifyError)> = vec![
        (
            "alg none",
            format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims(&user, &sid, now, &server.url))),
            VerifyError::Algorithm,
        ),
        ("HS256 keyed with the public key", hs_with_public_key, VerifyError::Algorithm),
        (
            "RS384 with the right key",
            sign(
                &key,
                &signature::RSA_PKCS1_SHA384,
                &json!({"alg": "RS384", "kid": kid}),
                &claims(&user, &sid, now, &server.url),
            ),
            VerifyError::Algorithm,
        ),
        (
            "another key with our kid",
            rs256(&other, &header, &claims(&user, &sid, now, &server.url)),
            VerifyError::Signature,
        ),
        ("tampered payload", String::from_utf8(tampered_payload).unwrap(), VerifyError::Signature),
        ("truncated signature", format!("{body}.{}", URL_SAFE_NO_PAD.encode(&short_sig)), VerifyError::Signature),
        (
            "kid path injection",
            with_header(json!({"alg": "RS256", "kid": "../../etc/passwd"})),
            VerifyError::UnknownKey,
        ),
        ("kid SQL injection", with_header(json!({"alg": "RS256", "kid": "' OR 1=1 --"})), VerifyError::UnknownKey),
        (
            "embedded jwk",
            rs256(
                &other,
                &json!({"alg": "RS256", "kid": kid, "jwk": {"kty": "RSA"}}),
                &claims(&user, &sid, now, &server.url),
            ),
            VerifyError::Signature,
        ),
        (
            "template category",
            with_header(json!({"alg": "RS256", "kid": kid, "cat": "cl_B7d4PD222AAA"})),
            VerifyError::NotSessionToken,
        ),
        (
            "foreign typ",
            with_header(json!({"alg": "RS256", "kid": kid, "typ": "at+jwt"})),
            VerifyError::NotSessionToken,
        ),
        (
            "no sid (a template token)",
            with(&|c| {
                c.as_object_mut().unwrap().remove("sid");
            }),
            VerifyError::NotSessionToken,
        ),
        (
            "no sub",
            with(&|c| {
                c.as_object_mut().unwrap().remove("sub");
            }),
            VerifyError::Claim("sub"),
        ),
        (
            "no exp",
            with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            VerifyError::Claim("exp"),
        ),
        (
            "no nbf",
            with(&|c| {
                c.as_object_mut().unwrap().remove("nbf");
            }),
            VerifyError::Claim("nbf"),
        ),
        (
            "no iat",
            with(&|c| {
                c.as_object_mut().unwrap().remove("iat");
            }),
            VerifyError::Claim("iat"),
        ),
        (
            "expired beyond the leeway",
            with(&|c| {
                c["exp"] = json!(now - 6);
            }),
            VerifyError::Expired,
        ),
        (
            "nbf in the future",
            with(&|c| {
                c["nbf"] = json!(now + 120);
            }),
            VerifyError::NotYetValid,
        ),
        (
            "iat in the future",
            with(&|c| {
                c["iat"] = json!(now + 120);
            }),
            VerifyError::NotYetValid,
        ),
        (
            "azp not authorized",
            with(&|c| {
                c["azp"] = json!("https://evil.example");
            }),
            VerifyError::UnauthorizedParty,
        ),
        (
            "pending session",
            with(&|c| {
                c["sts"] = json!("pending");
            }),
            VerifyError::Pending,
        ),
        ("not a JWT", "not-a-token".into(), VerifyError::Malformed),
        ("garbage segments", "a.b.c".into(), VerifyError::Malformed),
        ("huge", "a".repeat(100_000), VerifyError::Malformed),
    ];
    for (name, token, expected) in cases {
        assert_eq!(usher.verifier().verify(&token).await.unwrap_err(), expected, "{name}");
    }
    assert!(
        usher
            .verifier()
            // At the same `now` the token was made for: with the wall clock, a second boundary
            // crossed between the two made this flaky.
            .verify_at(
                &with(&|c| {
                    c["exp"] = json!(now - 4);
                }),
                now,
            )
            .await
            .is_ok(),
        "within the 5 s leeway"
    );
    assert!(
        usher
            .verifier()
            .verify(&with(&|c| {
                c["azp"] = json!("http://app.example");
            }))
            .await
            .is_ok(),
        "an authorized party"
    );
}

#[tokio::test]
async fn a_jku_header_is_never_fetched() {
    let server = start(|_| {}).await;
    let usher = server.usher(|_| {});
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let jku = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let other = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).unwrap();
    let token = rs256(
        &other,
        &json!({"alg": "RS256", "kid": "attacker", "jku": jku}),
        &claims("user_x", "sess_x", now_secs_for_tests(), &server.url),
    );
    assert_eq!(usher.verifier().verify(&token).await.unwrap_err(), VerifyError::UnknownKey);
    assert!(listener.accept().is_err(), "no connection was made to the jku URL");
}

#[tokio::test]
async fn the_jwks_is_fetched_once_and_unknown_kids_refetch_at_most_once_per_interval() {
    let server = start(|_| {}).await;
    let usher = server.usher(|c| c.jwks_refetch_interval = Duration::from_secs(3600));
    let (user, sid, token) = server.signed_in(&usher, "a@example.com").await;
    for _ in 0..50 {
        usher.verifier().verify(&token).await.unwrap();
    }
    assert_eq!(usher.verifier().jwks_fetches(), 1);
    let other = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).unwrap();
    for i in 0..100 {
        let forged = rs256(
            &other,
            &json!({"alg": "RS256", "kid": format!("ins_random{i}")}),
            &claims(&user, &sid, now_secs_for_tests(), &server.url),
        );
        assert!(usher.verifier().verify(&forged).await.is_err());
    }
    assert_eq!(
        usher.verifier().jwks_fetches(),
        1,
        "unknown kids within the refetch interval of the last fetch cause no new fetch"
    );
}

#[tokio::test]
async fn a_rotated_key_is_picked_up() {
    let server = start(|c| c.key_reload_interval = Duration::from_millis(50)).await;
    let usher = server.usher(|c| c.jwks_refetch_interval = Duration::ZERO);
    let (_, sid, old) = server.signed_in(&usher, "a@example.com").await;
    usher.verifier().verify(&old).await.unwrap();
    server.clock.advance_ms(1000);
    server.state.keys.rotate(server.state.store.as_ref(), server.state.now(), 0).await.unwrap();
    server.state.keys.reload(server.state.store.as_ref(), server.state.now()).await.unwrap();
    let new = usher.client().sessions().token(&sid, None).await.unwrap();
    assert_ne!(crate::server::kid_of(&new), crate::server::kid_of(&old));
    assert!(usher.verifier().verify(&new).await.is_ok(), "the new kid triggers a refetch");
    assert!(usher.verifier().verify(&old).await.is_ok(), "the old key is still published");
    assert_eq!(usher.verifier().jwks_fetches(), 2);
}

#[tokio::test]
async fn a_revoked_sessions_token_lives_until_it_expires_but_no_new_one_is_minted() {
    let server = start(|_| {}).await;
    let usher = server.usher(|_| {});
    let (_, sid, token) = server.signed_in(&usher, "a@example.com").await;
    usher.client().sessions().revoke(&sid).await.unwrap();
    // Networkless verification cannot see the revocation: the token stays valid for its
    // remaining (at most 60 s) life. Documented in the crate docs.
    assert!(usher.verifier().verify(&token).await.is_ok());
    let err = usher.client().sessions().token(&sid, None).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));
    let later = now_secs_for_tests() + 66;
    assert_eq!(
        usher.verifier().verify_at(&token, later).await.unwrap_err(),
        VerifyError::Expired,
        "cached tokens expire too"
    );
}

#[tokio::test]
async fn concurrent_first_requests_share_one_fetch() {
    let server = start(|_| {}).await;
    let usher = server.usher(|_| {});
    let (_, _, token) = server.signed_in(&usher, "a@example.com").await;
    let fresh = server.usher(|_| {});
    let done = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (fresh, token, done) = (fresh.clone(), token.clone(), done.clone());
            tokio::spawn(async move {
                fresh.verifier().verify(&token).await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(done.load(Ordering::Relaxed), 20);
    assert_eq!(fresh.verifier().jwks_fetches(), 1);
}

#[tokio::test]
async fn get_token_returns_the_request_token_and_a_one_line_pem_is_accepted() {
    let server = start(|_| {}).await;
    let usher = server.usher(|_| {});
    let (user, _, token) = server.signed_in(&usher, "a@example.com").await;
    let auth = usher.authenticate(Some(&token), "http://app.local/".into()).await;
    assert_eq!(auth.user_id.as_deref(), Some(user.as_str()));
    assert_eq!(auth.get_token().await.unwrap().as_deref(), Some(token.as_str()), "no network, the same token");
    let fresh = auth.get_fresh_token().await.unwrap().unwrap();
    assert_ne!(fresh, token);
    assert!(usher.verifier().verify(&fresh).await.is_ok());

    let one_line = server.state.keys.signer().public_pem().trim().replace('\n', "\\n");
    let networkless = server.usher(|c| c.jwt_key = Some(one_line));
    assert!(networkless.verifier().verify(&token).await.is_ok());
    let signed_out = usher.authenticate(None, "http://app.local/".into()).await;
    assert_eq!(signed_out.get_token().await.unwrap(), None);
}

#[tokio::test]
async fn claims_the_verifier_checks_must_be_well_typed_and_the_others_never_refuse_a_token() {
    let server = start(|_| {}).await;
    let usher = server.usher(|_| {});
    let (user, sid, _) = server.signed_in(&usher, "a@example.com").await;
    let (key, kid) = server.instance_key().await;
    let now = now_secs_for_tests();
    let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT", "cat": "cl_B7d4PD111AAA"});
    let with = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut c = claims(&user, &sid, now, &server.url);
        f(c.as_object_mut().unwrap());
        rs256(&key, &header, &c)
    };
    for name in ["sub", "sid", "exp", "nbf", "iat", "azp", "iss", "sts"] {
        let token = with(&|c| {
            c.insert(name.into(), json!({"wrong": "type"}));
        });
        assert_eq!(usher.verifier().verify(&token).await.unwrap_err(), VerifyError::Malformed, "{name}");
    }
    let tolerated = [
        ("a v1 token: no v, sts or fva", with(&|c| ["v", "sts", "fva"].iter().for_each(|k| drop(c.remove(*k))))),
        (
            "odd informational claims",
            with(&|c| {
                c.extend([("v".into(), json!("two")), ("fva".into(), json!("x")), ("jti".into(), json!(7))]);
            }),
        ),
        ("a status this SDK does not know", with(&|c| drop(c.insert("sts".into(), json!("something_new"))))),
    ];
    for (name, token) in tolerated {
        assert!(usher.verifier().verify(&token).await.is_ok(), "{name}");
    }
}
