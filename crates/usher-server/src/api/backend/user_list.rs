//! The query parameters of `GET /v1/users` and `GET /v1/users/count`.

use serde::Deserialize;

use crate::{
    error::{ApiError, ApiResult},
    store::{UserFilter, UserOrder, UserQuery},
    validate::Paging,
};

/// Most values of one repeated filter (Clerk's limit).
const MAX_FILTER_VALUES: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListUsers {
    #[serde(default)]
    email_address: Vec<String>,
    #[serde(default)]
    phone_number: Vec<String>,
    #[serde(default)]
    external_id: Vec<String>,
    #[serde(default)]
    username: Vec<String>,
    #[serde(default)]
    user_id: Vec<String>,
    query: Option<String>,
    banned: Option<bool>,
    created_at_before: Option<i64>,
    created_at_after: Option<i64>,
    last_active_at_before: Option<i64>,
    last_active_at_after: Option<i64>,
    last_sign_in_at_before: Option<i64>,
    last_sign_in_at_after: Option<i64>,
    order_by: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

impl ListUsers {
    pub(super) fn filter(&self) -> ApiResult<UserFilter> {
        for (param, values) in [
            ("email_address", &self.email_address),
            ("phone_number", &self.phone_number),
            ("external_id", &self.external_id),
            ("username", &self.username),
            ("user_id", &self.user_id),
        ] {
            if values.len() > MAX_FILTER_VALUES {
                return Err(ApiError::invalid(
                    "form_param_exceeds_allowed_size",
                    param,
                    format!("At most {MAX_FILTER_VALUES} values of {param} are allowed."),
                ));
            }
        }
        if self.query.as_ref().is_some_and(|q| q.chars().count() > 256) {
            return Err(ApiError::invalid(
                "form_param_exceeds_allowed_size",
                "query",
                "query must be at most 256 characters.",
            ));
        }
        // `user_id` values may carry `+` (include, the default) or `-` (exclude).
        let mut include = Vec::new();
        let mut exclude = Vec::new();
        for id in &self.user_id {
            match id.strip_prefix('-') {
                Some(rest) => exclude.push(rest.to_owned()),
                None => include.push(id.strip_prefix('+').unwrap_or(id).to_owned()),
            }
        }
        Ok(UserFilter {
            email_address: self.email_address.clone(),
            phone_number: self.phone_number.clone(),
            external_id: self.external_id.clone(),
            username: self.username.clone(),
            user_id: include,
            exclude_user_id: exclude,
            query: self.query.clone(),
            banned: self.banned,
            created_at_before: self.created_at_before,
            created_at_after: self.created_at_after,
            last_active_at_before: self.last_active_at_before,
            last_active_at_after: self.last_active_at_after,
            last_sign_in_at_before: self.last_sign_in_at_before,
            last_sign_in_at_after: self.last_sign_in_at_after,
            locked_at: None,
        })
    }

    pub(super) fn query(&self) -> ApiResult<UserQuery> {
        let raw = self.order_by.as_deref().unwrap_or("-created_at");
        let (descending, field) = match raw.as_bytes().first() {
            Some(b'-') => (true, &raw[1..]),
            Some(b'+') => (false, &raw[1..]),
            _ => (false, raw),
        };
        let order_by = match field {
            "created_at" => UserOrder::CreatedAt,
            "updated_at" => UserOrder::UpdatedAt,
            "first_name" => UserOrder::FirstName,
            "last_name" => UserOrder::LastName,
            "username" => UserOrder::Username,
            "email_address" => UserOrder::EmailAddress,
            "phone_number" => UserOrder::PhoneNumber,
            "last_active_at" => UserOrder::LastActiveAt,
            "last_sign_in_at" => UserOrder::LastSignInAt,
            _ => {
                return Err(ApiError::invalid(
                    "form_param_value_invalid",
                    "order_by",
                    "order_by must be one of created_at, updated_at, first_name, last_name, username, email_address, phone_number, last_active_at, last_sign_in_at, with an optional + or - prefix.",
                ));
            }
        };
        Ok(UserQuery {
            filter: self.filter()?,
            order_by,
            descending,
            page: Paging { limit: self.limit, offset: self.offset }.page()?,
        })
    }
}
