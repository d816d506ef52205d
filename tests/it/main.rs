//! The one integration-test crate: one `mod` per area, shared helpers in `common`.
mod terraform_contract;
