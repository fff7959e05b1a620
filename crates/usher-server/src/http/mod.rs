//! The HTTP edge shared by the Frontend API ([`crate::api`]) and the hosted pages
//! ([`crate::pages`]): the browser's cookies, the origin check and CORS, per-IP limits, body
//! extraction, and `_method` tunnelling. The flows below it ([`crate::flows`]) never see a
//! header; the routers above it never parse one themselves.

pub mod cookies;
pub mod extract;
pub mod origin;
pub mod proxy;
pub mod request_origin;
pub mod throttle;
pub mod tunnel;
