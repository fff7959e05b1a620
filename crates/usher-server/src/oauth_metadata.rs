//! Discovered OpenID Connect provider metadata, kept across sign-ins. It lives apart from the
//! OAuth flow because the application state holds it and the flows read the state.

use openidconnect::core::CoreProviderMetadata;

/// Providers' metadata (endpoints and signing keys), fetched once and kept for
/// [`METADATA_TTL_MS`], so a sign-in does not fetch `/.well-known/openid-configuration` and the
/// JWKS every time; an ID token signed by a key the cached JWKS lacks refetches them (a key
/// rotation), at most once per [`MIN_REFRESH_MS`].
#[derive(Default)]
pub struct MetadataCache(std::sync::Mutex<std::collections::HashMap<String, Cached>>);

/// One provider's metadata and when it was fetched (ms).
#[derive(Clone)]
pub struct Cached {
    /// Endpoints and the JWKS.
    pub metadata: CoreProviderMetadata,
    /// When they were fetched (ms since the epoch).
    pub fetched_at: i64,
}

/// How long discovered metadata and keys are used before they are fetched again.
pub const METADATA_TTL_MS: i64 = 60 * 60 * 1000;
/// The shortest time between two fetches for one provider (so forged tokens cannot make usher
/// hammer the provider).
pub const MIN_REFRESH_MS: i64 = 60 * 1000;

impl MetadataCache {
    /// The cached metadata of the provider with this strategy.
    pub fn get(&self, strategy: &str) -> Option<Cached> {
        self.0.lock().ok()?.get(strategy).cloned()
    }

    /// Keeps (or replaces) a provider's metadata.
    pub fn put(&self, strategy: &str, cached: Cached) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(strategy.to_owned(), cached);
        }
    }
}
