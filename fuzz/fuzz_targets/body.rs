//! Body decoding as the Backend API (JSON) and the Frontend API (form or JSON) do it: any bytes
//! give a value or a Clerk error with a 4xx status, never a panic or a 5xx.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usher_server::http::extract::{decode_form, decode_json};
use usher_types::requests::{
    CreateSession, CreateSignInToken, CreateUser, JwtTemplateParams, UpdateUser, UserMetadata,
};

fn check<T>(result: Result<T, usher_server::error::ApiError>) {
    if let Err(e) = result {
        assert!(e.status().is_client_error(), "{}", e.status());
    }
}

fuzz_target!(|data: &[u8]| {
    check(decode_json::<CreateUser>(data));
    check(decode_json::<UpdateUser>(data));
    check(decode_json::<UserMetadata>(data));
    check(decode_json::<CreateSession>(data));
    check(decode_json::<JwtTemplateParams>(data));
    check(decode_json::<CreateSignInToken>(data));
    check(decode_json::<serde_json::Value>(data));
    check(decode_form::<CreateUser>(data));
    check(decode_form::<UpdateUser>(data));
    check(decode_form::<CreateSession>(data));
});
