//! Set-up shared by the integration tests: copies of the bundled knowledge base, and the
//! real bot started against a fake Discord ([`spawn_bot`]) with helpers to drive it.

#![allow(dead_code)] // Not every test module uses every helper.

mod bot;
mod knowledge;

pub(crate) use bot::*;
pub(crate) use knowledge::*;
