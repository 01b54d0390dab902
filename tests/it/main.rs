//! The integration tests, in one binary so the crate is linked once.

mod store;
