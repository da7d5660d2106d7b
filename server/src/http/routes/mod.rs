//! The handlers, one file per part of the API.

pub mod account;
pub mod app;
pub mod oidc;
pub mod ops;
pub mod pages;
pub mod web;
pub mod web_token;
