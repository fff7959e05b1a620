//! What a person does in a browser: sign up, sign in, stay signed in, manage their account.
//!
//! The Frontend API ([`crate::api::frontend`]) and the hosted pages ([`crate::pages`]) are two
//! faces of these flows; both call the functions here, so there is one implementation of each
//! rule (lockout, codes, enumeration-safe answers, session lifetimes, safe redirects). The flows
//! take and return plain values — records, attempts, errors — and know nothing of HTTP: reading
//! and writing cookies, origins and bodies is the HTTP edge's job ([`crate::http`]).
//!
//! A browser is a *client* ([`browser::Browser`]): its `__client` cookie carries the client id
//! and a secret whose hash is stored. The secret is replaced on every sign-in and sign-out, so a
//! captured cookie stops working ([`browser::Browser::rotate`]).

pub mod account;
pub mod admin;
pub mod audit;
pub mod browser;
pub mod codes;
pub mod email_link;
pub mod handshake;
pub mod invitations;
pub mod oauth;
pub mod organizations;
pub mod passkeys;
pub mod profile;
pub mod reset;
pub mod roles;
pub mod second_factor;
pub mod settings;
pub mod sign_in;
pub mod sign_up;
pub mod templates;
pub mod webhooks;

pub use browser::Browser;
