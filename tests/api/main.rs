//! Black-box tests of the server over real HTTP, each against its own server on port 0.

#![expect(
    clippy::needless_pass_by_value,
    clippy::unnecessary_wraps,
    reason = "table-driven tests pass `json!` values by value for readability"
)]

mod admin;
mod admin_control;
mod backend;
mod browser;
mod clients;
mod create_session;
mod edocument_files;
mod examples;
mod guard;
mod helpers;
mod hostile;
mod https;
mod in_process;
mod journal;
mod limits;
mod media;
mod metadata;
mod openapi;
mod packages;
mod page;
mod recipes;
mod reliability;
mod scenarios;
mod scoping;
mod session_result;
mod unmodified;
mod webhooks;
mod widget;
